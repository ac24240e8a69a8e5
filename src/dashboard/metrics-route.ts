import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DashboardDeps } from './dashboard.js';
import { scrapeMetrics } from './metrics.js';
import { currentUser, sameSecret } from './sign-in.js';

/** `GET /metrics`: for a signed-in user, or a scraper sending `Authorization: Bearer <METRICS_TOKEN>`. */
export function metricsRoute(app: FastifyInstance, deps: DashboardDeps): void {
  app.get('/metrics', async (request, reply) => {
    if (!currentUser(request, deps.credentials) && !bearerMatches(request, deps.metricsToken)) {
      return reply.status(401).header('www-authenticate', 'Bearer').send({ error: 'sign in, or send METRICS_TOKEN' });
    }
    const { contentType, text } = await scrapeMetrics({
      queues: [...deps.queues, deps.callbacks],
      ...(deps.partners
        ? { queueDataCenters: new Map(deps.partners.dataCenters.map((dc) => [dc.queueName, dc.id])) }
        : {}),
      store: deps.store,
      redis: deps.redis,
      keys: deps.keys,
      callMetrics: deps.callMetrics,
      drift: deps.drift,
      ...(deps.sources ? { sources: { names: [...deps.sources.sources.keys()], store: deps.sources.store } } : {}),
    });
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(text);
  });
}

function bearerMatches(request: FastifyRequest, token: string | undefined): boolean {
  const sent = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  return token !== undefined && sent !== undefined && sameSecret(token, sent);
}
