import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * createLogger writes to stdout (it takes no destination), so the cases are logged by a real
 * child process through createLogger itself and its output is read back: what a log shipper
 * would receive.
 */
const cases = {
  topLevel: {
    authorization: 'Bearer top-authorization',
    client_secret: 'top-client-secret',
    access_token: 'top-access-token',
    password: 'top-password',
    token: 'top-token',
  },
  requestHeaders: { req: { headers: { authorization: 'Bearer nested-authorization' } } },
  body: { body: { password: 'nested-password', client_secret: 'nested-client-secret' } },
  tokenAnswer: { response: { body: { access_token: 'nested-access-token', token: 'nested-token' } } },
  deepError: { err: { response: { body: { access_token: 'deep-access-token' } } } },
  camelCase: { credentials: { clientSecret: 'camel-client-secret', accessToken: 'camel-access-token' } },
  capitalisedHeader: { headers: { Authorization: 'Bearer capitalised-authorization' } },
  fiveLevels: { a: { b: { c: { d: { token: 'five-levels-token' } } } } },
} as const;
type CaseName = keyof typeof cases;

const logged = new Map<CaseName, string>();

beforeAll(async () => {
  const loggerUrl = pathToFileURL(new URL('../src/logger.ts', import.meta.url).pathname).href;
  const script = `
    const { createLogger } = await import(${JSON.stringify(loggerUrl)});
    const logger = createLogger({ level: 'debug' });
    for (const [name, fields] of Object.entries(JSON.parse(process.argv[1]))) logger.info({ ...fields, case: name }, 'case');
  `;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    script,
    JSON.stringify(cases),
  ]);
  for (const line of stdout.trim().split('\n')) {
    const name = (JSON.parse(line) as { case: CaseName }).case;
    logged.set(name, line);
  }
});

function secretsIn(name: CaseName): string[] {
  return JSON.stringify(cases[name]).match(/"[^"]*-(?:authorization|secret|token|password)"/g) ?? [];
}

describe('createLogger redaction', () => {
  it.each(['topLevel', 'requestHeaders', 'body', 'tokenAnswer', 'deepError', 'camelCase'] as const)(
    'redacts every secret in %s',
    (name) => {
      const line = logged.get(name);
      expect(line).toBeDefined();
      const secrets = secretsIn(name);
      expect(secrets.length).toBeGreaterThan(0);
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).toContain('[redacted]');
    },
  );

  it('keeps the fields that are not secrets', () => {
    const line = JSON.parse(logged.get('requestHeaders')!) as { msg: string; case: string };
    expect(line.msg).toBe('case');
    expect(line.case).toBe('requestHeaders');
  });

  // pino's redaction paths are case-sensitive: node's http lowercases received headers, but a
  // header object we build ourselves (got options) may say `Authorization`.
  it('redacts a capitalised Authorization header', () => {
    expect(logged.get('capitalisedHeader')).not.toContain('capitalised-authorization');
  });

  it('redacts a secret five levels deep', () => {
    expect(logged.get('fiveLevels')).not.toContain('five-levels-token');
  });
});
