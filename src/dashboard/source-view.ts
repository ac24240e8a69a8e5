import { EVENT_OUTCOMES, type StoredEvent } from '../sources/intake-store.js';
import type { DashboardDeps } from './dashboard.js';

/** What the Sources page shows of each source (docs/dashboard.md "Sources"). */
export interface SourceView {
  name: string;
  kind: string;
  /** Events by outcome, `received` first (it counts every event). */
  counts: { outcome: string; count: number }[];
  latest: EventView[];
}

export interface EventView {
  receivedAt: string;
  type: string;
  object: string;
  outcome: string;
  /** Why, for a person: the reason, the field problems, or what enqueueing did. */
  why: string;
  customer?: string;
  batchId?: string;
  /** The batch's page: an onboarding batch, or an action batch (outcome `action`). */
  batchHref?: string;
}

/** The latest events shown per source. */
export const LATEST_EVENTS_SHOWN = 25;

export async function sourcesView({ sources, store }: NonNullable<DashboardDeps['sources']>): Promise<SourceView[]> {
  return Promise.all(
    [...sources.values()].map(async (source) => {
      const name = source.config.name;
      const [counts, latest] = await Promise.all([
        store.outcomeCounts(name),
        store.latestEvents(name, LATEST_EVENTS_SHOWN),
      ]);
      return {
        name,
        kind: source.config.kind,
        counts: EVENT_OUTCOMES.map((outcome) => ({ outcome, count: counts[outcome] })),
        latest: latest.map(eventView),
      };
    }),
  );
}

function eventView(event: StoredEvent): EventView {
  return {
    receivedAt: new Date(event.receivedAt).toISOString(),
    type: event.type,
    object: `${event.objectType} ${event.objectId}`.trim(),
    outcome: event.outcome,
    why: whyText(event),
    ...(event.customer ? { customer: event.customer } : {}),
    ...(event.batchId ? { batchId: event.batchId, batchHref: batchHref(event.outcome, event.batchId) } : {}),
  };
}

function batchHref(outcome: StoredEvent['outcome'], batchId: string): string {
  const id = encodeURIComponent(batchId);
  return outcome === 'action' ? `/lifecycle/batches/${id}` : `/batches/${id}`;
}

function whyText(event: StoredEvent): string {
  const problems = (event.problems ?? []).map((p) => `${p.field}: ${p.reason}`).join('; ');
  if (event.outcome === 'onboarding') return event.enqueued ? `enqueued: ${event.enqueued}` : '';
  if (event.outcome === 'action') return `asked for: ${event.action ?? '?'}`;
  if (event.outcome === 'received') return 'waiting for its intake job';
  return [event.reason, problems].filter(Boolean).join(': ');
}
