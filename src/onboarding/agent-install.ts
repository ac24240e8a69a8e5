/**
 * Ready-to-paste unattended agent installs for a customer, with the exact data-centre URL
 * (docs/acronis-api.md §7). Windows gets `.\` because PowerShell does not run a program from the
 * current folder by bare name; cmd accepts it too.
 */

const TOKEN = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
// The commands are pasted into a shell: the URL may hold nothing a shell would interpret.
const SHELL_SAFE_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~/-]*)?$/;

export interface AgentInstallCommands {
  windows: string;
  linux: string;
}

export function agentInstallCommands(input: { dataCenterUrl: string; token: string }): AgentInstallCommands {
  const dc = input.dataCenterUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api\/2$/, '');
  if (!SHELL_SAFE_URL.test(dc))
    throw new RangeError(`not a data-centre URL for an install command: ${JSON.stringify(input.dataCenterUrl)}`);
  if (!TOKEN.test(input.token)) throw new RangeError('not a registration token (XXXX-XXXX-XXXX)');
  return {
    windows: `.\\Cyber_Protection_Agent_for_Windows_x64.exe --quiet --reg-address=${dc} --reg-token=${input.token}`,
    linux: `sudo ./Cyber_Protection_Agent_for_Linux_x86_64.bin -a --rain=${dc} --token=${input.token}`,
  };
}
