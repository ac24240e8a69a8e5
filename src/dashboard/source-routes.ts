import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from './dashboard.js';
import { renderPage } from './pages.js';
import { sourcesView } from './source-view.js';

/** The Sources page: each source of SOURCES_DIR, its events by outcome and the latest with why. */
export function sourceRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.get('/sources', async (request, reply) => {
    const sources = deps.sources ? await sourcesView(deps.sources) : [];
    return renderPage(request, reply, deps, 'sources', { title: 'Sources', sources });
  });
}
