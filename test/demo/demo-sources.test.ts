import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemoSources } from '../../src/demo/demo-sources.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { SourceIntakeStore } from '../../src/sources/intake-store.js';
import { connectTestRedis, removeKeys, uniquePrefix } from '../helpers/redis.js';

/**
 * The demo's sources on their own: what they put in SOURCES_DIR and the environment, the
 * bounded wait's message when no write-back comes (here nothing listens where the systems post),
 * and that closing takes the directory and the secrets away. The whole flow is test/cli/demo.test.ts.
 */
const prefix = uniquePrefix('demo-sources');
const redis = connectTestRedis('redis://127.0.0.1:6379');
afterAll(async () => {
  await removeKeys(redis, prefix);
  redis.disconnect();
});

describe('the demo sources', () => {
  it('names its secrets by variable only, says which write-back did not come, and leaves nothing behind', async () => {
    const sources = await startDemoSources();
    const files = readdirSync(sources.dir).sort();
    expect(files).toEqual(['autotask.json', 'connectwise.json', 'hubspot.json', 'pipedrive.json', 'salesforce.json']);
    const hubspot = JSON.parse(readFileSync(join(sources.dir, 'hubspot.json'), 'utf8')) as {
      settings: { client_secret_env: string; access_token_env: string };
    };
    const secretEnv = hubspot.settings.access_token_env;
    const token = sources.secretEnv[secretEnv];
    expect(token).toMatch(/^pat-na1-/);
    // Handed to the server, not written into the process's environment.
    expect(process.env[secretEnv]).toBeUndefined();
    // Every secret of every system: handed over by name only, none in a file or the environment.
    const secrets = Object.entries(sources.secretEnv);
    expect(secrets.length).toBeGreaterThanOrEqual(15);
    const written = files.map((file) => readFileSync(join(sources.dir, file), 'utf8')).join('\n');
    for (const [name, value] of secrets) {
      expect(written).toContain(`"${name}"`);
      expect(written).not.toContain(value);
      expect(process.env[name]).toBeUndefined();
    }

    // Port 9 (discard) on loopback: nothing answers, so no event gets in and nothing is written back.
    sources.feed('http://127.0.0.1:9');
    const lines = await sources.settle(
      new SourceIntakeStore(redis, new RedisKeys(prefix)),
      new AbortController().signal,
      500,
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^HubSpot: deal \d+ won → customer hubspot:\d+: not written back within 1 s \(no write-back yet\)/,
      ),
      expect.stringMatching(
        /^ConnectWise: agreement \d+ added → customer connectwise:\d+: not written back within 1 s \(no write-back yet\)/,
      ),
      expect.stringMatching(
        /^Pipedrive: deal \d+ won → customer pipedrive:\d+: not written back within 1 s \(no write-back yet\)/,
      ),
      expect.stringMatching(
        /^Salesforce: opportunity (006\w{15}) won → customer salesforce:\1: not written back within 1 s \(no write-back yet\)/,
      ),
      expect.stringMatching(
        /^Autotask PSA: company (\d+) became a Customer → customer C\1: not written back within 1 s \(no write-back yet\)/,
      ),
    ]);

    // Closing does not wait out the systems' resends to an address that never answers.
    await sources.close();
    expect(existsSync(sources.dir)).toBe(false);
    for (const name of Object.keys(sources.secretEnv)) expect(process.env[name]).toBeUndefined();
  });
});
