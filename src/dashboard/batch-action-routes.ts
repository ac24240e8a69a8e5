import type { FastifyInstance } from 'fastify';
import { resendNotice } from '../workers/resend-activation.js';
import { retryNotice } from '../workers/retry-verdict.js';
import { batchPageHref } from './batch-query.js';
import type { DashboardDeps } from './dashboard.js';
import { notFound } from './pages.js';
import { resendUnconfirmedOf, retryFailedOf } from './partner-actions.js';
import { currentUser } from './sign-in.js';

/** A batch page filtered by partner acts on that partner's customers: its forms send the partner. */
type BatchActionForm = { Params: { id: string }; Body: { partner?: string } | undefined };

/** A batch's Retry all failed and Resend unconfirmed e-mails, back to the page (and partner) they came from. */
export function batchActionRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const partnerNames = deps.partners?.names ?? [];
  const back = (batchId: string, partner: string | undefined) =>
    batchPageHref(batchId, { page: 1, ...(partner ? { partner } : {}) });

  app.post<BatchActionForm>('/batches/:id/retry', async (request, reply) => {
    const partner = formPartner(request.body, partnerNames);
    const outcomes = await retryFailedOf(deps, request.params.id, partner);
    request.session.set('notice', retryNotice(request.params.id, outcomes));
    return reply.redirect(back(request.params.id, partner), 303);
  });

  // Sending an e-mail a second time is a person's decision (src/workers/resend-activation.ts): logged with who made it.
  app.post<BatchActionForm>('/batches/:id/resend-activation', async (request, reply) => {
    const batchId = request.params.id;
    if (!(await deps.store.getBatch(batchId))) return notFound(request, reply, deps, `batch ${batchId}`);
    const partner = formPartner(request.body, partnerNames);
    const outcomes = await resendUnconfirmedOf(deps, batchId, partner);
    const user = currentUser(request, deps.credentials);
    deps.logger.info(
      { component: 'dashboard', batchId, ...(partner ? { partner } : {}), user, customers: outcomes.length },
      'activation e-mails resent',
    );
    request.session.set('notice', resendNotice(batchId, outcomes));
    return reply.redirect(back(batchId, partner), 303);
  });
}

/** The partner a batch form was sent for: one the install serves, or none (every partner). */
function formPartner(body: { partner?: string } | undefined, partners: readonly string[]): string | undefined {
  const partner = typeof body?.partner === 'string' ? body.partner.trim().toLowerCase() : '';
  return partners.includes(partner) ? partner : undefined;
}
