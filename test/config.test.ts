import { describe, expect, it } from 'vitest';
import { ConfigError, EnvSchema, loadConfig, requireConfig, type ConfigKey } from '../src/config.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';

/** The defaults docs/configuration.md documents: what an install gets when nothing is set. */
const designDefaults = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: 'onboard',
  ACRONIS_BASE_URL: undefined,
  ACRONIS_CLIENT_ID: undefined,
  ACRONIS_CLIENT_SECRET: undefined,
  ACRONIS_PARENT_TENANT_ID: undefined,
  ACRONIS_RATE_LIMIT: 10,
  WORKER_CONCURRENCY: 16,
  ONBOARDING_PROFILE: undefined,
  WEBHOOK_SECRET: undefined,
  DASHBOARD_USER: undefined,
  DASHBOARD_PASSWORD: undefined,
  SECRETS_KEY: undefined,
  PORT: 3000,
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('gives the defaults of docs/configuration.md when nothing is set, frozen', () => {
    const config = loadConfig({});
    for (const [variable, value] of Object.entries(designDefaults))
      expect(config[variable as ConfigKey], variable).toBe(value);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('covers every variable of the table', () => {
    const schemaKeys = Object.keys(EnvSchema.shape);
    for (const variable of Object.keys(designDefaults)) expect(schemaKeys).toContain(variable);
  });

  it('treats empty and blank strings as unset (a `FOO=` line in .env)', () => {
    const blank = Object.fromEntries(Object.keys(EnvSchema.shape).map((k, i) => [k, i % 2 === 0 ? '' : '   ']));
    expect(loadConfig(blank)).toEqual(loadConfig({}));
  });

  it('parses values that are set', () => {
    const secretsKey = generateSecretsKey();
    const config = loadConfig({
      REDIS_URL: 'rediss://:pw@redis.example:6380/2',
      ACRONIS_RATE_LIMIT: '2.5',
      WORKER_CONCURRENCY: '4',
      PORT: '8080',
      SECRETS_KEY: secretsKey,
      ACRONIS_PARENT_TENANT_ID: '3f1e6b7a-0c1d-4e2f-9a3b-5c6d7e8f9a0b',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      REDIS_URL: 'rediss://:pw@redis.example:6380/2',
      ACRONIS_RATE_LIMIT: 2.5,
      WORKER_CONCURRENCY: 4,
      PORT: 8080,
      SECRETS_KEY: secretsKey,
      LOG_LEVEL: 'debug',
    });
  });

  it.each([
    ['ACRONIS_RATE_LIMIT', 'abc'],
    ['ACRONIS_RATE_LIMIT', '0'],
    ['REDIS_URL', 'http://x'],
    ['SECRETS_KEY', 'short'],
    ['SECRETS_KEY', Buffer.alloc(16).toString('base64')],
    ['ACRONIS_BASE_URL', 'not-a-url'],
    ['ACRONIS_BASE_URL', 'ftp://eu2-cloud.acronis.com'],
    ['WORKER_CONCURRENCY', '1.5'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['ACRONIS_PARENT_TENANT_ID', 'tenant-1'],
    ['QUEUE_PREFIX', 'has space'],
    ['WEBHOOK_SECRET', 'too-short'],
    ['WEBHOOK_SECRET_PREVIOUS', 'too-short'],
  ])('refuses %s=%s with a ConfigError naming the variable', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.problems.map((p) => p.variable)).toEqual([variable]);
    expect(err.message).toContain(`${variable}:`);
  });

  it('names every bad variable at once', () => {
    const err = configError({
      ACRONIS_RATE_LIMIT: 'abc',
      REDIS_URL: 'http://x',
      SECRETS_KEY: 'short',
      ACRONIS_BASE_URL: 'not-a-url',
    });
    expect(err.problems.map((p) => p.variable).sort()).toEqual([
      'ACRONIS_BASE_URL',
      'ACRONIS_RATE_LIMIT',
      'REDIS_URL',
      'SECRETS_KEY',
    ]);
    for (const variable of ['ACRONIS_BASE_URL', 'ACRONIS_RATE_LIMIT', 'REDIS_URL', 'SECRETS_KEY'])
      expect(err.message).toContain(variable);
  });

  it('RECONCILE_EVERY (extension): a duration in words or milliseconds, daily by default, 0 for off', () => {
    expect(loadConfig({}).RECONCILE_EVERY).toBe(86_400_000);
    expect(loadConfig({ RECONCILE_EVERY: '12h' }).RECONCILE_EVERY).toBe(43_200_000);
    expect(loadConfig({ RECONCILE_EVERY: '30m' }).RECONCILE_EVERY).toBe(1_800_000);
    expect(loadConfig({ RECONCILE_EVERY: '90s' }).RECONCILE_EVERY).toBe(90_000);
    expect(loadConfig({ RECONCILE_EVERY: '0' }).RECONCILE_EVERY).toBe(0);
    // What a parsed Config gives back when written out again (the demo does) reads the same.
    expect(loadConfig({ RECONCILE_EVERY: '86400000' }).RECONCILE_EVERY).toBe(86_400_000);
    for (const bad of ['soon', '500ms', '24', '-1h', '1 week'])
      expect(configError({ RECONCILE_EVERY: bad }).problems, bad).toEqual([
        { variable: 'RECONCILE_EVERY', reason: expect.stringContaining('30m, 12h or 1d, or 0 for off') },
      ]);
  });

  it('WEBHOOK_SECRET_PREVIOUS (extension, for a rotation) is unset by default and read when set', () => {
    expect(loadConfig({}).WEBHOOK_SECRET_PREVIOUS).toBeUndefined();
    expect(loadConfig({ WEBHOOK_SECRET_PREVIOUS: 'the-old-secret-0123456789' }).WEBHOOK_SECRET_PREVIOUS).toBe(
      'the-old-secret-0123456789',
    );
  });

  it('callbacks (extensions): CALLBACK_SECRET differs from the webhook secrets; allowed hosts are a list; http is opt-in', () => {
    const webhook = 'the-webhook-secret-0123456789';
    expect(configError({ WEBHOOK_SECRET: webhook, CALLBACK_SECRET: webhook }).problems).toEqual([
      { variable: 'CALLBACK_SECRET', reason: 'must differ from WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS' },
    ]);
    expect(configError({ WEBHOOK_SECRET_PREVIOUS: webhook, CALLBACK_SECRET_PREVIOUS: webhook }).problems).toHaveLength(
      1,
    );
    const config = loadConfig({
      WEBHOOK_SECRET: webhook,
      CALLBACK_SECRET: 'the-callback-secret-0123456789',
      CALLBACK_ALLOWED_HOSTS: ' PSA.internal , [::1],10.0.0.8,',
      CALLBACK_ALLOW_HTTP: 'true',
    });
    expect(config.CALLBACK_ALLOWED_HOSTS).toEqual(['psa.internal', '::1', '10.0.0.8']);
    expect(config.CALLBACK_ALLOW_HTTP).toBe(true);
    expect(loadConfig({}).CALLBACK_ALLOW_HTTP).toBe(false);
    expect(loadConfig({}).CALLBACK_ALLOWED_HOSTS).toEqual([]);
    expect(configError({ CALLBACK_ALLOW_HTTP: 'yes' }).problems[0]!.variable).toBe('CALLBACK_ALLOW_HTTP');
    expect(configError({ SECRETS_KEY_PREVIOUS: 'short' }).problems[0]!.variable).toBe('SECRETS_KEY_PREVIOUS');
  });

  it.each([
    'https://eu2-cloud.acronis.com',
    'https://eu2-cloud.acronis.com/',
    'https://eu2-cloud.acronis.com/api/2',
    'https://eu2-cloud.acronis.com/api/2/',
  ])('normalises ACRONIS_BASE_URL %s to the data-centre URL', (url) => {
    expect(loadConfig({ ACRONIS_BASE_URL: url }).ACRONIS_BASE_URL).toBe('https://eu2-cloud.acronis.com');
  });
});

describe('requireConfig', () => {
  const needed = ['ACRONIS_BASE_URL', 'ACRONIS_CLIENT_ID', 'ACRONIS_CLIENT_SECRET', 'SECRETS_KEY'] as const;

  it('names each missing variable and what it is needed for', () => {
    let caught: unknown;
    try {
      requireConfig(loadConfig({ ACRONIS_CLIENT_ID: 'client' }), needed, 'to call the Acronis API');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.problems.map((p) => p.variable)).toEqual(['ACRONIS_BASE_URL', 'ACRONIS_CLIENT_SECRET', 'SECRETS_KEY']);
    for (const variable of ['ACRONIS_BASE_URL', 'ACRONIS_CLIENT_SECRET', 'SECRETS_KEY'])
      expect(err.message).toContain(`${variable}: is required to call the Acronis API`);
    expect(err.message).not.toContain('ACRONIS_CLIENT_ID:');
  });

  it('treats an empty variable as missing', () => {
    expect(() => requireConfig(loadConfig({ WEBHOOK_SECRET: '' }), ['WEBHOOK_SECRET'], 'to serve the webhook')).toThrow(
      /WEBHOOK_SECRET: is required to serve the webhook/,
    );
  });

  it('returns the config when everything is set', () => {
    const config = loadConfig({
      ACRONIS_BASE_URL: 'https://eu2-cloud.acronis.com/api/2/',
      ACRONIS_CLIENT_ID: 'client',
      ACRONIS_CLIENT_SECRET: 'secret',
      SECRETS_KEY: generateSecretsKey(),
    });
    const required = requireConfig(config, needed, 'to call the Acronis API');
    expect(required.ACRONIS_BASE_URL).toBe('https://eu2-cloud.acronis.com');
    expect(required.ACRONIS_CLIENT_ID).toBe('client');
  });
});
