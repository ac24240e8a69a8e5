import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';
import { BIN } from './helpers/cli.js';
import { startTestSimulator, type RunningSimulator } from './helpers/simulator.js';

/**
 * docker-compose.yml as written: no Docker engine runs here, so the file is read as compose reads
 * it (YAML with merge keys) and held to what an operator relies on.
 */
const ROOT = resolve(import.meta.dirname, '..');
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: unknown;
  ports?: string[];
  stop_grace_period?: string;
  profiles?: string[];
  restart?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  container_name?: string;
}
const compose = parseYaml(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { services } = compose;
const demoEnv = parseDotenv(readFileSync(resolve(ROOT, 'examples/compose-demo.env'), 'utf8'));
/** The command's own list of commands, from its help. */
const commands = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' })
  .split('Commands:')[1]!
  .split('\n')
  .map((line) => /^ {2}([a-z-]+)/.exec(line)?.[1])
  .filter((c): c is string => c !== undefined);

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator({ seed: 'compose-demo' });
});
afterAll(async () => {
  await sim?.close();
});

describe('docker-compose.yml', () => {
  it('has redis, serve, work, and the simulator in the demo profile only', () => {
    expect(Object.keys(services).sort()).toEqual(['redis', 'serve', 'simulator', 'work']);
    expect(services.simulator!.profiles).toEqual(['demo']);
    for (const name of ['redis', 'serve', 'work']) expect(services[name]!.profiles, name).toBeUndefined();
  });

  it('keeps Redis as BullMQ needs it: AOF on a volume, noeviction, a healthcheck everyone waits for', () => {
    const redis = services.redis!;
    const args = redis.command!.join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
    expect(redis.healthcheck?.test).toContain('ping');
    for (const name of ['serve', 'work']) {
      expect(services[name]!.depends_on, name).toEqual({ redis: { condition: 'service_healthy' } });
      expect(services[name]!.environment?.REDIS_URL, name).toBe('redis://redis:6379');
    }
  });

  it('runs only commands the CLI has, restarts serve and work, and lets work scale', () => {
    expect(commands).toEqual(expect.arrayContaining(['serve', 'work', 'sim', 'import', 'demo', 'bootstrap']));
    for (const [name, service] of Object.entries(services).filter(([n]) => n !== 'redis')) {
      expect(commands, name).toContain(service.command![0]);
    }
    for (const name of ['serve', 'work']) {
      expect(services[name]!.restart, name).toBe('unless-stopped');
      // Above SHUTDOWN_TIMEOUT_MS (25 s) + the 4 s the command may take to close.
      expect(parseInt(String(services[name]!.stop_grace_period), 10), name).toBeGreaterThan(29);
    }
    expect(services.serve!.healthcheck?.test.join(' ')).toContain('/healthz');
    const work = services.work!;
    expect(work.ports).toBeUndefined();
    expect(work.container_name).toBeUndefined();
    // serve listens on every interface in its container: it must then have a sign-in.
    expect(services.serve!.environment?.HOST).toBe('0.0.0.0');
  });

  it('publishes Redis and the simulator on loopback only', () => {
    expect(services.redis!.ports).toEqual(['127.0.0.1:6379:6379']);
    expect(services.simulator!.ports).toEqual(['127.0.0.1:4010:4010']);
    expect(services.simulator!.command).toEqual(expect.arrayContaining(['--seed', 'compose-demo']));
  });

  it('holds no secret: values come from .env; the demo .env holds the simulator seed’s own credentials', () => {
    const secretish = /SECRET|PASSWORD|TOKEN|KEY|CLIENT_ID/;
    for (const [name, service] of Object.entries(services)) {
      for (const key of Object.keys(service.environment ?? {})) expect(key, `${name}.${key}`).not.toMatch(secretish);
    }
    expect(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')).not.toContain(demoEnv.ACRONIS_CLIENT_SECRET!);
    expect(demoEnv).toMatchObject({
      ACRONIS_BASE_URL: 'http://simulator:4010',
      ACRONIS_CLIENT_ID: sim.seed.clientId,
      ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
    });
    // serve starts with it in the container: the sign-in is there and every value is valid.
    const config = loadConfig({ ...demoEnv, ...services.serve!.environment });
    expect(config.DASHBOARD_USER).toBeTruthy();
  });

  it('builds an image that runs the compiled command and holds the profiles and samples', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(dockerfile).toMatch(/COPY profiles \.\/profiles/);
    expect(dockerfile).toMatch(/COPY examples \.\/examples/);
    expect(dockerfile).toContain('ENTRYPOINT ["/app/bin/acronis-onboard.js"]');
  });
});
