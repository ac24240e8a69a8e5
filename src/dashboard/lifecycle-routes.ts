import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ActionName, Requester } from '../lifecycle/action.js';
import { isActionBatchId } from '../workers/action-store.js';
import { cancelOffboard, checkActions, enqueueActions } from '../workers/enqueue-action.js';
import type { DashboardDeps } from './dashboard.js';
import { notFound, renderPage } from './pages.js';

/**
 * After day one on the dashboard (docs/lifecycle.md "Dashboard"): a customer's Suspend, Resume,
 * Offboard (its name typed) and Cancel of a pending offboard; a batch action on a batch page
 * (a count typed for an offboard); the pending deletions with their dates and the action batches.
 * Every form carries the session's CSRF token (checked for every POST, src/dashboard/sign-in.ts).
 */
const customerForm = z.object({
  action: z.enum(['suspend', 'resume', 'offboard', 'cancel']),
  confirm_name: z.string().max(300).optional(),
});
const batchForm = z.object({
  action: z.enum(['suspend', 'resume', 'offboard']),
  yes_delete: z.string().max(12).optional(),
});

const DASHBOARD: Requester = { kind: 'operator', label: 'operator (dashboard)' };

type KeyParams = { Params: { key: string } };
type IdParams = { Params: { id: string } };

export function lifecycleRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.post<KeyParams>('/customers/:key/lifecycle', async (request, reply) => {
    const key = request.params.key;
    const back = `/customers/${encodeURIComponent(key)}`;
    const form = customerForm.safeParse(request.body ?? {});
    if (!form.success) {
      request.session.set('notice', 'unknown action');
      return reply.redirect(back, 303);
    }
    request.session.set('notice', await customerAction(deps, key, form.data));
    return reply.redirect(back, 303);
  });

  app.post<IdParams>('/batches/:id/lifecycle', async (request, reply) => {
    const back = `/batches/${encodeURIComponent(request.params.id)}`;
    const form = batchForm.safeParse(request.body ?? {});
    if (!form.success) {
      request.session.set('notice', 'unknown action');
      return reply.redirect(back, 303);
    }
    request.session.set('notice', await batchAction(deps, request.params.id, form.data));
    return reply.redirect(back, 303);
  });

  app.get('/lifecycle', async (request, reply) => {
    const [pending, batches] = await Promise.all([deps.actions.pendingDeletions(), deps.actions.listBatches(20)]);
    return renderPage(request, reply, deps, 'lifecycle', { title: 'After day one', pending, batches });
  });

  app.get<IdParams>('/lifecycle/batches/:id', async (request, reply) => {
    const batch = isActionBatchId(request.params.id) ? await deps.actions.getBatch(request.params.id) : undefined;
    if (!batch) return notFound(request, reply, deps, `action batch ${request.params.id}`);
    const actions = await deps.actions.batchActions(batch.id);
    return renderPage(request, reply, deps, 'lifecycle-batch', { title: `Actions ${batch.id}`, batch, actions });
  });
}

/** One customer's action; the notice says what was queued or why nothing was. */
async function customerAction(deps: DashboardDeps, key: string, form: z.infer<typeof customerForm>): Promise<string> {
  const enqueueDeps = await deps.lifecycle();
  if (form.action === 'cancel') {
    const result = await cancelOffboard(enqueueDeps, key, DASHBOARD);
    return result.outcome === 'cancelled' ? `offboard cancelled; resume queued` : result.reason;
  }
  const action: ActionName = form.action;
  const params = action === 'offboard' ? { graceMs: deps.offboardGraceMs } : {};
  const { accepted, problems } = await checkActions(enqueueDeps, [
    { customer: key, action, params, requester: DASHBOARD },
  ]);
  const [checked] = accepted;
  if (!checked) return `nothing done: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`;
  // Deleting is irreversible: the customer's name typed, exactly.
  if (action === 'offboard' && form.confirm_name?.trim() !== checked.name.trim())
    return `nothing done: type the customer's name ("${checked.name}") to offboard it`;
  const queued = await enqueueActions(enqueueDeps, { action, source: 'dashboard', label: key }, accepted);
  return `${action} queued (action ${queued.actions[0]?.id ?? ''})`;
}

/** The action for every customer of a batch that is onboarded; an offboard needs their count typed. */
async function batchAction(deps: DashboardDeps, batchId: string, form: z.infer<typeof batchForm>): Promise<string> {
  const customers = (await deps.store.batchCustomers(batchId)).filter(
    (c) => c.record?.state === 'done' && c.record.batchId === batchId,
  );
  if (customers.length === 0) return 'nothing done: no onboarded customer in this batch';
  const enqueueDeps = await deps.lifecycle();
  const params = form.action === 'offboard' ? { graceMs: deps.offboardGraceMs } : {};
  const requester: Requester = { kind: 'batch', label: `operator (dashboard, batch ${batchId})` };
  const requests = customers.map((c) => ({ customer: c.key, action: form.action, params, requester }));
  const { accepted, problems } = await checkActions(enqueueDeps, requests);
  if (accepted.length === 0) return `nothing done: ${problems.length} refused (${problems[0]?.reason ?? ''})`;
  if (form.action === 'offboard' && form.yes_delete?.trim() !== String(accepted.length))
    return `nothing done: type ${accepted.length} (the number of customers to delete) to offboard them`;
  const queued = await enqueueActions(
    enqueueDeps,
    { action: form.action, source: 'dashboard', label: batchId },
    accepted,
  );
  return `${form.action} queued for ${queued.actions.length} customers (batch ${queued.batchId}); ${problems.length} refused`;
}
