import type { BatchFunnel } from '../reconcile/drift-store.js';

/**
 * A batch's onboarding funnel in words, the same in `status BATCH` and on the batch page
 * (docs/reconcile.md "Funnel"): before any sweep has checked its customers it says so, rather
 * than show zeros that would read as "nobody activated".
 */
export const FUNNEL_NOT_CHECKED = 'not checked yet: the next sweep fills it in (or run acronis-onboard reconcile)';

export interface FunnelStage {
  label: string;
  count: number;
  /** Of the batch's customers, in whole percent. */
  percent: number;
}

export function funnelStages(funnel: BatchFunnel): FunnelStage[] {
  const of = (count: number) => (funnel.customers > 0 ? Math.floor((count / funnel.customers) * 100) : 0);
  return [
    { label: 'created', count: funnel.created, percent: of(funnel.created) },
    { label: 'activated (admin logged in)', count: funnel.activated, percent: of(funnel.activated) },
    { label: 'first agent registered', count: funnel.agentRegistered, percent: of(funnel.agentRegistered) },
  ];
}

/** "created 340 of 350, activated (admin logged in) 120, first agent registered 45", or FUNNEL_NOT_CHECKED. */
export function funnelLine(funnel: BatchFunnel): string {
  if (funnel.checkedAt === null) return FUNNEL_NOT_CHECKED;
  const [created, ...rest] = funnelStages(funnel);
  const first = `${created!.label} ${created!.count.toLocaleString('en-US')} of ${funnel.customers.toLocaleString('en-US')}`;
  return [first, ...rest.map((s) => `${s.label} ${s.count.toLocaleString('en-US')}`)].join(', ');
}
