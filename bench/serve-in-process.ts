import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { App } from '../src/app/app.js';
import { startServer, type RunningServer } from '../src/app/server.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { removeKeys } from '../test/helpers/redis.js';

/**
 * `serve` in the bench's own process, as the webhook and dashboard benches measure it: the
 * simulator in this process only for the producer's start-up, no workers, real Redis under a
 * prefix of its own, removed by `close()`.
 */
export interface ServeInProcess {
  sim: RunningSimulator;
  config: Config;
  app: App;
  server: RunningServer;
  redis: Redis;
  close(): Promise<void>;
}

export async function startServeInProcess(label: string, env: Record<string, string> = {}): Promise<ServeInProcess> {
  const prefix = `bench-${label}-${randomUUID().slice(0, 8)}`;
  const sim = await startSimulator({ port: 0, host: '127.0.0.1' });
  const config = loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    ACRONIS_BASE_URL: sim.url,
    ACRONIS_CLIENT_ID: sim.seed.clientId,
    ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
    SECRETS_KEY: generateSecretsKey(),
    WEBHOOK_SECRET: randomUUID(),
    PORT: '0',
    ...env,
  });
  const app = await App.open(config, { logger: createLogger({ level: 'warn' }) });
  const server = await startServer(app);
  const redis = new Redis(config.REDIS_URL);
  return {
    sim,
    config,
    app,
    server,
    redis,
    async close() {
      await server.close();
      await app.close();
      await sim.close();
      await removeKeys(redis, config.QUEUE_PREFIX);
      redis.disconnect();
    },
  };
}
