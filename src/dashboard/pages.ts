import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardDeps } from './dashboard.js';
import { batchActionRoutes } from './batch-action-routes.js';
import { batchRoutes } from './batch-routes.js';
import { lifecycleRoutes } from './lifecycle-routes.js';
import { customerRoutes } from './customer-routes.js';
import { driftRoutes } from './drift-routes.js';
import { metricsRoute } from './metrics-route.js';
import { currentUser } from './sign-in.js';
import { shortTime } from './time-text.js';
import { signInRoutes } from './sign-in-routes.js';
import { sourceRoutes } from './source-routes.js';

/**
 * The overview's pages: server-rendered Eta templates (autoEscape on: `<%= %>` escapes, and no
 * template uses the raw form on request data), htmx for the parts that refresh while a batch
 * runs, one stylesheet. Nothing is built for the browser.
 */
const VIEWS_DIR = fileURLToPath(new URL('./views', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('./static', import.meta.url));
const HTMX_DIR = dirname(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));

/** How often a page polls while something on it is still moving. */
export const REFRESH_EVERY = '2s';

export async function pageRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(fastifyView, {
    engine: { eta: new Eta({ autoEscape: true }) },
    root: VIEWS_DIR,
    viewExt: 'eta',
  });
  await app.register(fastifyStatic, { root: [STATIC_DIR, HTMX_DIR], prefix: '/static/', maxAge: '1h' });
  signInRoutes(app, deps);
  batchRoutes(app, deps);
  batchActionRoutes(app, deps);
  customerRoutes(app, deps);
  sourceRoutes(app, deps);
  lifecycleRoutes(app, deps);
  driftRoutes(app, deps);
  metricsRoute(app, deps);
}

/**
 * What every page's layout needs: who is signed in, the CSRF token for its forms, and (whole
 * pages only, not the fragments they poll) the notice left by the last action.
 */
export function pageContext(request: FastifyRequest, reply: FastifyReply, deps: DashboardDeps, fragment = false) {
  const notice = fragment ? undefined : request.session.get('notice');
  if (notice) request.session.set('notice', undefined);
  return {
    user: currentUser(request, deps.credentials),
    signInEnabled: deps.credentials !== undefined,
    csrfToken: reply.generateCsrf(),
    notice,
    refreshEvery: REFRESH_EVERY,
    time: shortTime,
    enc: encodeURIComponent,
  };
}

export function renderPage(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: DashboardDeps,
  view: string,
  data: Record<string, unknown>,
) {
  return reply.header('cache-control', 'no-store').view(view, { ...pageContext(request, reply, deps), ...data });
}

/** A part of a page that htmx polls or loads on demand: no layout. */
export function renderFragment(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: DashboardDeps,
  view: string,
  data: Record<string, unknown>,
) {
  return reply.header('cache-control', 'no-store').view(view, { ...pageContext(request, reply, deps, true), ...data });
}

export function notFound(request: FastifyRequest, reply: FastifyReply, deps: DashboardDeps, what: string) {
  return renderPage(request, reply.status(404), deps, 'not-found', { title: 'Not found', what });
}

/** A page asked for with a query it cannot answer: what is wrong, and the way back. */
export function badRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: DashboardDeps,
  problem: string,
  back: string,
) {
  return renderPage(request, reply.status(400), deps, 'bad-request', { title: 'Bad request', problem, back });
}
