import type { Producer } from '../producers/producer.js';
import { enqueueCustomers } from '../workers/enqueue.js';
import type { App } from './app.js';
import { prepareOnboarding, type SetupOptions } from './onboarding-setup.js';

/**
 * A producer over the app: the profile checked against the partner's offer, so an unusable
 * profile stops `import` or `serve` with the field named before a row is queued.
 */
export async function openProducer(app: App, opts: SetupOptions = {}): Promise<Producer> {
  const setup = await prepareOnboarding(app, opts);
  const deps = {
    queue: app.queue,
    store: app.store,
    box: app.box,
    profile: setup.profile,
    partnerTenantId: setup.partnerTenantId,
  };
  return {
    ...setup,
    store: app.store,
    queue: app.queue,
    enqueue: (batch, requests, o = {}) =>
      enqueueCustomers(o.profile ? { ...deps, profile: o.profile } : deps, batch, requests),
  };
}
