import type { FastifyInstance } from 'fastify';
import type { CustomerRecord } from '../workers/onboarding-store.js';
import { customerRetryNotice } from '../workers/retry-verdict.js';
import { changeAdvice, liveState, shownRecord, stepTimeline } from './customer-view.js';
import type { DashboardDeps } from './dashboard.js';
import { notFound, renderFragment, renderPage } from './pages.js';
import { partnerOf, retryOne } from './partner-actions.js';

type CustomerParams = { Params: { key: string } };

/** A customer's page (timeline), its live state at Acronis on demand, and its Retry. */
export function customerRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.get<CustomerParams>('/customers/:key', async (request, reply) => {
    const record = await deps.store.getCustomer(request.params.key);
    if (!record) return notFound(request, reply, deps, `customer ${request.params.key}`);
    const [timeline, change, writeBack, actions] = await Promise.all([
      // A partner taken out of the partners file has no queue left to read: the page says so, without steps.
      servesPartnerOf(deps, record) ? stepTimeline(deps.queueFor(record.partner), record) : [],
      changeAdvice(deps.store, record),
      deps.writeBack(record.key),
      deps.actions.customerActions(record.key),
    ]);
    return renderPage(request, reply, deps, 'customer', {
      title: `Customer ${record.key}`,
      record: shownRecord(record),
      partner: partnerShown(deps, record),
      timeline,
      change,
      writeBack,
      actions,
      graceDays: deps.offboardGraceMs / 86_400_000,
    });
  });

  app.get<CustomerParams>('/customers/:key/fragment', async (request, reply) => {
    const record = await deps.store.getCustomer(request.params.key);
    if (!record) return reply.status(404).send({ error: `no customer ${request.params.key}` });
    const [timeline, change] = await Promise.all([
      servesPartnerOf(deps, record) ? stepTimeline(deps.queueFor(record.partner), record) : [],
      changeAdvice(deps.store, record),
    ]);
    const data = { record: shownRecord(record), partner: partnerShown(deps, record), timeline, change };
    return renderFragment(request, reply, deps, 'partials/timeline', data);
  });

  app.get<CustomerParams>('/customers/:key/live', async (request, reply) => {
    const record = await deps.store.getCustomer(request.params.key);
    if (!record) return reply.status(404).send({ error: `no customer ${request.params.key}` });
    const live = await liveState(deps.acronis(record.partner), record);
    return renderFragment(request, reply, deps, 'partials/live-state', { live, checkedAt: new Date() });
  });

  app.post<CustomerParams>('/customers/:key/retry', async (request, reply) => {
    const key = request.params.key;
    const outcome = await retryOne(deps, key);
    request.session.set('notice', customerRetryNotice(outcome));
    const record = await deps.store.getCustomer(key);
    return reply.redirect(record ? `/batches/${encodeURIComponent(record.batchId)}` : '/', 303);
  });
}

/** With several partners: the customer's partner and its data centre, for the page's facts. */
function partnerShown(deps: DashboardDeps, record: CustomerRecord): { name: string; dataCenter: string } | undefined {
  const name = partnerOf(deps, record);
  if (!deps.partners || name === undefined) return undefined;
  return { name, dataCenter: deps.partners.dataCenterOf(name) };
}

/** Whether the install still serves the record's partner (a record naming none is the default partner's). */
function servesPartnerOf(deps: Pick<DashboardDeps, 'partners'>, record: CustomerRecord): boolean {
  return record.partner === undefined || !deps.partners || deps.partners.names.includes(record.partner);
}
