import type { FastifyInstance } from 'fastify';
import type { RedisConnection } from '../redis/connection.js';
import { withRedisDeadline } from '../redis/deadline.js';
import type { RedisKeys } from '../redis/keys.js';
import { workersSeen } from '../workers/heartbeat.js';

/**
 * `GET /readyz` for a load balancer: 200 when Redis answers and a worker process reported in
 * the last minute (src/workers/heartbeat.ts), else 503 saying which. `/healthz` stays the
 * liveness check (Redis only): a `serve` without workers is alive, but onboards nobody.
 */
export async function readinessRoutes(
  app: FastifyInstance,
  opts: { redis: RedisConnection; keys: RedisKeys },
): Promise<void> {
  app.get('/readyz', async (_request, reply) => {
    let workers: number;
    try {
      workers = await withRedisDeadline(opts.redis, 'readyz', 1000, workersSeen(opts.redis, opts.keys.workersSeen));
    } catch {
      return reply.status(503).header('retry-after', '5').send({ redis: 'down', workers: null });
    }
    return reply.status(workers > 0 ? 200 : 503).send({ redis: 'ok', workers });
  });
}
