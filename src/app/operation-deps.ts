import type { ResendDeps } from '../workers/resend-activation.js';
import type { ResultsDeps } from '../workers/results.js';
import type { App } from './app.js';

/**
 * What the operator's per-customer commands need of the app, with each customer worked with in
 * its own partner's data centre (docs/partners.md): the CLI, the dashboard and reconcile ask alike.
 * An install without a partners file keeps asking only for the variables it always needed.
 */

/** `resend-activation`: the customer's queue for its timeline line, its partner's client for the e-mail. */
export function resendDeps(app: App): ResendDeps {
  return {
    store: app.store,
    queueFor: (partner) => app.queueFor(partner),
    acronisFor: (partner) => (partner === undefined ? app.acronis : app.lane(partner).acronis),
  };
}

/** `results`: each customer's install commands name its own data centre; several partners: each row names its partner. */
export function resultsDeps(app: App): ResultsDeps {
  const several = app.partnerNames.length > 1;
  return {
    store: app.store,
    box: app.box,
    dataCenterUrlFor: (partner) => (several ? app.lane(partner).dataCenterUrl : app.dataCenterUrl),
    ...(several ? { defaultPartner: app.defaultPartnerName } : {}),
  };
}
