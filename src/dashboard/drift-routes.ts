import type { FastifyInstance } from 'fastify';
import type { Requester } from '../lifecycle/action.js';
import type { DashboardDeps } from './dashboard.js';
import { driftPageModel, fixNotice } from './drift-view.js';
import { renderPage } from './pages.js';
import { currentUser } from './sign-in.js';

/**
 * The Drift page (docs/reconcile.md "Drift page"): the customers the last sweeps found differing
 * from their profile, and Fix, which queues the changes that bring one back (through the
 * lifecycle's `change`). Fix is a POST with the session's CSRF token (checked for every POST,
 * src/dashboard/sign-in.ts), logged with who asked.
 */
type KeyParams = { Params: { key: string } };

export function driftRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.get('/drift', async (request, reply) => {
    const model = await driftPageModel({ drift: deps.drift, reconcile: deps.reconcile });
    return renderPage(request, reply, deps, 'drift', { title: 'Drift', ...model });
  });

  app.post<KeyParams>('/drift/:key/fix', async (request, reply) => {
    const key = request.params.key;
    const user = currentUser(request, deps.credentials);
    const requester: Requester = { kind: 'operator', label: `operator (dashboard, ${user ?? 'unknown'})` };
    const fixed = await deps.fix(key, requester);
    const { queued, resent, refused } = fixed;
    deps.logger.info({ component: 'dashboard', customer: key, user, queued, resent, refused }, 'drift fix asked for');
    request.session.set('notice', fixNotice(fixed));
    return reply.redirect('/drift', 303);
  });
}
