import { describe, expect, it } from 'vitest';
import { agentInstallCommands } from '../../src/onboarding/agent-install.js';

describe('agentInstallCommands', () => {
  it('gives the documented unattended installs for the data centre and the token', () => {
    expect(agentInstallCommands({ dataCenterUrl: 'https://eu2-cloud.acronis.com', token: '34F6-8C39-4A5C' })).toEqual({
      windows:
        '.\\Cyber_Protection_Agent_for_Windows_x64.exe --quiet --reg-address=https://eu2-cloud.acronis.com --reg-token=34F6-8C39-4A5C',
      linux:
        'sudo ./Cyber_Protection_Agent_for_Linux_x86_64.bin -a --rain=https://eu2-cloud.acronis.com --token=34F6-8C39-4A5C',
    });
  });

  it('uses the data-centre address even when given the API base or a trailing slash', () => {
    for (const dataCenterUrl of [
      'https://eu2-cloud.acronis.com/',
      'https://eu2-cloud.acronis.com/api/2',
      'https://eu2-cloud.acronis.com/api/2/',
    ]) {
      const { windows, linux } = agentInstallCommands({ dataCenterUrl, token: '27F9-5234-41C3' });
      expect(linux).toContain('--rain=https://eu2-cloud.acronis.com --token=27F9-5234-41C3');
      expect(windows).toContain('--reg-address=https://eu2-cloud.acronis.com --reg-token=27F9-5234-41C3');
    }
    expect(agentInstallCommands({ dataCenterUrl: 'http://127.0.0.1:4010', token: '27F9-5234-41C3' }).linux).toContain(
      '--rain=http://127.0.0.1:4010 ',
    );
  });

  it('refuses anything a shell would interpret, so a pasted command does only what it says', () => {
    expect(() =>
      agentInstallCommands({ dataCenterUrl: 'https://eu2.example; rm -rf ~', token: '27F9-5234-41C3' }),
    ).toThrow(RangeError);
    expect(() => agentInstallCommands({ dataCenterUrl: 'https://eu2-cloud.acronis.com', token: '$(reboot)' })).toThrow(
      RangeError,
    );
  });
});
