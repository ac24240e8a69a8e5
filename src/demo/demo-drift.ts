import type { App } from '../app/app.js';
import { scheduleSweeps } from '../workers/reconcile-queue.js';

/**
 * The scheduled sweeps in the demo (docs/reconcile.md "Scheduled sweeps"): once the scripted part
 * is done, the install's one sweep scheduler is set to every minute (the demo's `work` registered
 * it at RECONCILE_EVERY's day), so the Drift page and each batch's funnel fill in while the demo
 * serves, one sweep at a time beside anything else that sweeps.
 */
const DEMO_SWEEP_EVERY_MS = 60_000;

export async function demoScheduledSweeps(
  app: App,
  dashboardUrl: string,
  print: (line: string) => void,
): Promise<void> {
  await scheduleSweeps(app.reconcile, DEMO_SWEEP_EVERY_MS);
  print(
    `drift:     ${dashboardUrl}/drift  (a sweep every minute from now fills it, and each batch's onboarding funnel)`,
  );
}
