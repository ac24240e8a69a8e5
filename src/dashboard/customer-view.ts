import type { AcronisEndpoints } from '../acronis/client.js';
import { ADOPT_STEPS, STEP_NAMES, type StepName } from '../onboarding/chain.js';
import type { CustomerRecord, OnboardingStore } from '../workers/onboarding-store.js';
import { resubmitStep } from '../workers/retry-verdict.js';
import { jobIdFor, type OnboardingQueue } from '../workers/queue.js';
import { maskText } from './mask.js';

/**
 * The customer page: the step timeline read from the step jobs (BullMQ keeps finished ones 14
 * days, with their attempts, times and `job.log()` lines), and on demand the customer's live
 * state at Acronis, so ops see who has finished onboarding on their side.
 */
export interface TimelineStep {
  step: StepName;
  /** done, failed, running, waiting, retrying (delayed), not reached, or from an earlier run. */
  state: string;
  attempts: number;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  log: string[];
}

const JOB_STATE_TEXT: Record<string, string> = {
  completed: 'done',
  failed: 'failed',
  active: 'running',
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  delayed: 'retrying',
};

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

/** The record as the customer page shows it: its failure reason masked like the steps' reasons. */
export function shownRecord(record: CustomerRecord): CustomerRecord {
  return record.error === undefined ? record : { ...record, error: maskText(record.error) };
}

export async function stepTimeline(queue: OnboardingQueue, record: CustomerRecord): Promise<TimelineStep[]> {
  // A record from before `steps` was kept was an onboarding's: an adoption's steps are not its.
  const planned =
    (record.steps?.split(',').filter(Boolean) as StepName[] | undefined) ??
    STEP_NAMES.filter((s) => !(ADOPT_STEPS as readonly string[]).includes(s));
  const steps = await Promise.all(
    planned.map(async (step): Promise<TimelineStep> => {
      const id = jobIdFor(record.key, step);
      const job = await queue.getJob(id);
      if (!job) return { step, state: 'not reached', attempts: 0, log: [] };
      const [state, { logs }] = await Promise.all([job.getState(), queue.getJobLogs(id, 0, 49)]);
      const earlierRun = record.runId !== undefined && job.data.runId !== record.runId;
      return {
        step,
        state: earlierRun ? 'from an earlier run' : (JOB_STATE_TEXT[state] ?? state),
        attempts: job.attemptsMade,
        queuedAt: iso(job.timestamp),
        startedAt: iso(job.processedOn),
        finishedAt: iso(job.finishedOn),
        ...(job.failedReason ? { reason: maskText(job.failedReason) } : {}),
        log: logs.map(maskText),
      };
    }),
  );
  return steps.map((step) => withoutRepeatedReason(step, record));
}

/**
 * The page states a failure's reason once, above the timeline: the failed step's row keeps its
 * attempts' log lines ("will retry: …", "failed: …") but points to it instead of repeating it.
 */
function withoutRepeatedReason(step: TimelineStep, record: CustomerRecord): TimelineStep {
  if (record.state !== 'failed' || step.step !== record.failedStep || !record.error) return step;
  if (step.state === 'from an earlier run') return step;
  const shown = maskText(record.error);
  const { reason, ...rest } = step;
  const log = step.log.map((line) => (line.endsWith(shown) ? `${line.slice(0, -shown.length)}the reason above` : line));
  return { ...rest, log, ...(reason && !shown.endsWith(reason) ? { reason } : {}) };
}

/** What to change and resubmit, for a failure a retry cannot resolve (the words `retry` prints). */
export async function changeAdvice(
  store: Pick<OnboardingStore, 'getBatch'>,
  record: CustomerRecord,
): Promise<string | undefined> {
  if (record.state !== 'failed' || !record.needsChange) return undefined;
  const batch = await store.getBatch(record.batchId);
  return resubmitStep(record.needsChange, { source: batch?.source ?? 'unknown', label: batch?.label ?? '' });
}

/** Usage names of the workloads an agent protects (docs/acronis-api.md §8). */
const AGENT_USAGES = ['workstations', 'servers', 'vms', 'mobiles'] as const;

export interface LiveState {
  user?: { login: string; activated: boolean; enabled: boolean };
  /** Per workload kind, summed over editions; usages are refreshed by Acronis every 5–6 hours. */
  agents?: { usage: string; count: number }[];
  agentsTotal?: number;
  problem?: string;
}

export type LiveStateSource = Pick<AcronisEndpoints, 'getUser' | 'getTenantUsages'>;

export async function liveState(acronis: LiveStateSource, record: CustomerRecord): Promise<LiveState> {
  const { userId, tenantId } = record.facts;
  if (!userId && !tenantId) return { problem: 'no tenant yet: nothing to look up at Acronis' };
  try {
    const [user, usages] = await Promise.all([
      userId ? acronis.getUser(userId) : undefined,
      tenantId ? acronis.getTenantUsages(tenantId, { usageNames: [...AGENT_USAGES] }) : undefined,
    ]);
    const state: LiveState = {};
    if (user) state.user = { login: user.login, activated: user.activated, enabled: user.enabled };
    if (usages) {
      state.agents = AGENT_USAGES.map((usage) => ({
        usage,
        count: usages.filter((u) => u.usage_name === usage).reduce((sum, u) => sum + u.value, 0),
      }));
      state.agentsTotal = state.agents.reduce((sum, a) => sum + a.count, 0);
    }
    return state;
  } catch (err) {
    return { problem: `Acronis did not answer as expected: ${maskText((err as Error).message)}` };
  }
}
