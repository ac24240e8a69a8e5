import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BatchIndex } from '../workers/batch-index.js';
import { MAX_STORED_BAD_ROWS } from '../workers/onboarding-store.js';
import { workersSeen } from '../workers/heartbeat.js';
import { badRowLines, batchPageModel, funnelView, type BatchPageDeps } from './batch-page.js';
import { parseBatchQuery } from './batch-query.js';
import { ProgressSampler, recentBatches } from './batch-view.js';
import type { DashboardDeps } from './dashboard.js';
import { badRequest, notFound, renderFragment, renderPage } from './pages.js';
import { resultsFile, withoutSecrets, type ResultsFormat } from './results-download.js';
import { currentUser } from './sign-in.js';

type BatchParams = { Params: { id: string } };

/** The overview (`/`), a batch's page and the results downloads. */
export function batchRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const sampler = new ProgressSampler();
  const index = new BatchIndex(deps.redis, deps.keys, deps.store);
  const partners = deps.partners;
  const partnerNames = partners?.names ?? [];
  const pageDeps: BatchPageDeps = {
    store: deps.store,
    index,
    sampler,
    ...(partners ? { partners: { names: partners.names, default: partners.default } } : {}),
  };
  app.get('/', async (request, reply) => {
    const [batches, workers] = await Promise.all([
      recentBatches(deps.store, index, sampler),
      workersSeen(deps.redis, deps.keys.workersSeen),
    ]);
    return renderPage(request, reply, deps, 'overview', { title: 'Batches', batches, workers });
  });

  app.get('/fragments/batches', async (request, reply) => {
    const batches = await recentBatches(deps.store, index, sampler);
    return renderFragment(request, reply, deps, 'partials/batches', { batches });
  });

  app.get<BatchParams>('/batches/:id', async (request, reply) => {
    const batchId = request.params.id;
    const parsed = parseBatchQuery(request.query, partnerNames);
    if (!parsed.ok) return badRequest(request, reply, deps, parsed.problem, `/batches/${encodeURIComponent(batchId)}`);
    const page = await batchPageModel(pageDeps, batchId, parsed.query);
    if (!page) return notFound(request, reply, deps, `batch ${batchId}`);
    const extras = await batchPageExtras(deps, batchId, page.batch.csvBadRows);
    return renderPage(request, reply, deps, 'batch', { title: `Batch ${page.batch.id}`, ...page, ...extras });
  });

  app.get<BatchParams>('/batches/:id/fragment', async (request, reply) => {
    const parsed = parseBatchQuery(request.query, partnerNames);
    if (!parsed.ok) return reply.status(400).send({ error: parsed.problem });
    const page = await batchPageModel(pageDeps, request.params.id, parsed.query);
    if (!page) return reply.status(404).send({ error: `no batch ${request.params.id}` });
    return renderFragment(request, reply, deps, 'partials/batch-live', { ...page });
  });

  app.get<BatchParams & { Querystring: { format?: string } }>('/batches/:id/results', async (request, reply) =>
    sendResults(request, reply, deps, { format: request.query.format, reveal: false }),
  );

  app.post<BatchParams & { Body: { format?: string; reveal?: string } }>(
    '/batches/:id/results',
    async (request, reply) =>
      sendResults(request, reply, deps, { format: request.body?.format, reveal: request.body?.reveal === 'yes' }),
  );
}

/** What the whole page shows beyond its live part: the CSV's bad rows and the onboarding funnel. */
async function batchPageExtras(deps: DashboardDeps, batchId: string, csvBadRows: number | undefined) {
  const [badRows, funnel] = await Promise.all([
    csvBadRows ? badRowLines(deps.store, batchId) : [],
    deps.drift.funnel(batchId).then(funnelView),
  ]);
  return { badRows, badRowsKept: MAX_STORED_BAD_ROWS, funnel };
}

async function sendResults(
  request: FastifyRequest<BatchParams>,
  reply: FastifyReply,
  deps: DashboardDeps,
  ask: { format: string | undefined; reveal: boolean },
) {
  const batchId = request.params.id;
  const format: ResultsFormat = ask.format === 'json' ? 'json' : 'csv';
  if (!(await deps.store.getBatch(batchId))) return notFound(request, reply, deps, `batch ${batchId}`);
  const rows = await deps.results(batchId);
  if (ask.reveal) {
    const user = currentUser(request, deps.credentials);
    deps.logger.info({ component: 'dashboard', batchId, user, format }, 'results downloaded with passwords and tokens');
  }
  const file = resultsFile(batchId, ask.reveal ? rows : withoutSecrets(rows), format);
  return reply
    .header('content-type', file.contentType)
    .header('content-disposition', `attachment; filename="${file.filename}"`)
    .header('cache-control', 'no-store')
    .send(file.body);
}
