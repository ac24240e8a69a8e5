import { randomUUID } from 'node:crypto';
import { customerField, type SecretBox } from '../secrets/secret-box.js';
import { chainDataSchema, plannedSteps, STEP_NAMES, type ChainData, type StepName } from '../onboarding/chain.js';
import { customerKeyOf, type CustomerRequest } from '../onboarding/customer-request.js';
import type { Profile } from '../onboarding/profile.js';
import type { BatchRecord, CustomerRecord, EnqueueOutcome, NewBatch, OnboardingStore } from './onboarding-store.js';
import { FIRST_STEP_PRIORITY, jobIdFor, type OnboardingQueue } from './queue.js';
import { skippedWhileAway } from '../redis/while-away.js';

/**
 * The one way customers enter the pipeline; the CSV import and the webhook both end here.
 * Each customer is claimed in the store, and a new or failed one gets its chain's first step
 * job (deterministic id, so adding it twice is a no-op):
 *   - new customer → its chain starts;
 *   - onboarded already → "already-onboarded", nothing queued;
 *   - queued or running → "already-queued", the chain in flight carries on;
 *   - failed → the new request replaces the failed chain (its old step jobs are removed).
 * A call costs a few round trips whatever its size: one read, one addBulk, one pipeline of claims.
 */
export interface EnqueueDeps {
  /** The default partner's queue, profile and tenant: where a customer naming no partner goes. */
  queue: OnboardingQueue;
  store: OnboardingStore;
  box: SecretBox;
  profile: Profile;
  partnerTenantId: string;
  /**
   * With several partners (docs/partners.md): the default one's name, and where a customer naming
   * another goes. Absent: every customer is the default partner's, and records name none.
   */
  partners?: {
    defaultName: string;
    target(name: string): Promise<PartnerTarget>;
  };
}

/** Where one partner's customers go: its data centre's queue, its tenant, its profile. */
export interface PartnerTarget {
  queue: OnboardingQueue;
  partnerTenantId: string;
  profile: Profile;
}

/** A customer known under one partner, asked for under another: producers refuse such rows first. */
export class PartnerMismatchError extends Error {
  constructor(readonly mismatches: readonly { key: string; recorded: string; asked: string }[]) {
    super(
      mismatches
        .map((m) => `customer ${m.key} is the partner "${m.recorded}"'s; it cannot be onboarded under "${m.asked}"`)
        .join('; '),
    );
    this.name = 'PartnerMismatchError';
  }
}

/**
 * A chain other than the onboarding's (an adoption: docs/adopt.md): its steps, and for each
 * request, in order, the tenant it adopts.
 */
export interface ChainShape {
  steps: StepName[];
  adopt?: readonly NonNullable<ChainData['adopt']>[];
}

export interface EnqueueResult {
  batch: BatchRecord;
  customers: { key: string; name: string; outcome: EnqueueOutcome; jobId?: string }[];
}

interface Submission {
  index: number;
  key: string;
  /** Its partner's queue, tenant and profile (the default partner's when it names none). */
  target: PartnerTarget;
  /** Its partner's name, recorded with it when the install serves several. */
  partner?: string;
  request: CustomerRequest;
  runId: string;
  position: number;
  /** A chain must start: the customer is new or failed (as last seen). */
  needsJob: boolean;
  /** It failed: its old chain's jobs must go first. */
  replacing: boolean;
  adopt?: NonNullable<ChainData['adopt']>;
}

/** A customer that changes state between our read and our claim is looked at again; it cannot keep changing. */
const MAX_CLAIM_ROUNDS = 3;

export async function enqueueCustomers(
  deps: EnqueueDeps,
  batch: NewBatch | { id: string },
  requests: readonly CustomerRequest[],
  shape?: ChainShape,
): Promise<EnqueueResult> {
  const keys = requests.map(customerKeyOf);
  const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
  // A batch counts each customer once: the producers report a repeat to their caller instead.
  if (repeated !== undefined) {
    throw new Error(`customer ${repeated} appears twice in one enqueue call; producers drop repeats first`);
  }
  const existing = await deps.store.getCustomers(keys);
  // Before the batch exists: a refused partner (or its API away) leaves nothing written.
  const partners = await partnersOf(deps, requests, keys, existing);
  const record = 'id' in batch ? await deps.store.getBatch(batch.id) : await deps.store.createBatch(batch);
  if (!record) throw new Error(`batch ${'id' in batch ? batch.id : ''} does not exist`);
  let pending: Submission[] = requests.map((request, index) => ({
    index,
    key: keys[index] as string,
    ...(partners[index] as { target: PartnerTarget; partner?: string }),
    request,
    runId: randomUUID(),
    position: record.total + index,
    needsJob: existing[index] === undefined || existing[index].state === 'failed',
    replacing: existing[index]?.state === 'failed',
    ...(shape?.adopt?.[index] ? { adopt: shape.adopt[index] } : {}),
  }));
  const outcomes: EnqueueOutcome[] = [];
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_CLAIM_ROUNDS)
      throw new Error(`customers ${pending.map((p) => p.key).join(', ')} kept changing state`);
    pending = await claimRound(deps, record.id, pending, outcomes, shape);
  }

  const customers = requests.map((request, i) => {
    const key = keys[i] as string;
    const outcome = outcomes[i] as EnqueueOutcome;
    const started = outcome === 'queued' || outcome === 'replaced';
    const firstStep = (shape?.steps ?? plannedSteps((partners[i] as { target: PartnerTarget }).target.profile))[0];
    return { key, name: request.name, outcome, ...(started ? { jobId: jobIdFor(key, firstStep as StepName) } : {}) };
  });
  // Every write is made: Redis going now costs the fresh counts, not the enqueue (the caller reads them again).
  return { batch: (await skippedWhileAway(() => deps.store.getBatch(record.id))) ?? record, customers };
}

function withPartner(request: CustomerRequest, partner: string | undefined): CustomerRequest {
  return partner === undefined || request.partner === partner ? request : { ...request, partner };
}

/**
 * Adds the first job of every submission that needs a chain, then claims them all. Returns the
 * submissions to try again: those that turned out to need a chain after all.
 */
async function claimRound(
  deps: EnqueueDeps,
  batchId: string,
  submissions: readonly Submission[],
  outcomes: EnqueueOutcome[],
  shape?: ChainShape,
): Promise<Submission[]> {
  const withJob = submissions.filter((s) => s.needsJob);
  const stepsOf = (s: Submission) => shape?.steps ?? plannedSteps(s.target.profile);
  // The old chain's step jobs go first, so the new chain's ids are free. Jobs are added before
  // the claim: a crash in between leaves a job that records its customer itself when it starts
  // (same runId), never a recorded customer without a job.
  await Promise.all(withJob.filter((s) => s.replacing).map((s) => removeChain(s.target.queue, s.key)));
  // One addBulk per data centre's queue (one with a single partner), in the batch's order.
  for (const [queue, group] of groupBy(withJob, (s) => s.target.queue))
    await queue.addBulk(
      group.map((s) =>
        firstStepJob(
          { box: deps.box, ...s.target },
          // The partner resolved (the default one for a request naming none), so the first
          // worker, should it record the customer before this claim does, records it too.
          {
            batchId,
            key: s.key,
            runId: s.runId,
            request: withPartner(s.request, s.partner),
            position: s.position,
            adopt: s.adopt,
          },
          stepsOf(s),
        ),
      ),
    );
  const claimed = await deps.store.claimAll(
    submissions.map((s) => ({
      batchId,
      key: s.key,
      runId: s.runId,
      position: s.position,
      hasJob: s.needsJob,
      fields: { name: s.request.name, steps: stepsOf(s).join(','), ...(s.partner ? { partner: s.partner } : {}) },
    })),
  );
  const again: Submission[] = [];
  claimed.forEach((outcome, i) => {
    const submission = submissions[i] as Submission;
    if (outcome === 'needs-job') again.push({ ...submission, needsJob: true, replacing: true });
    else outcomes[submission.index] = outcome;
  });
  return again;
}

/**
 * Each request's partner: the one it names, else the default; a customer already recorded under
 * another partner is refused (a tenant lives in one partner's tree: moving it is not this).
 */
async function partnersOf(
  deps: EnqueueDeps,
  requests: readonly CustomerRequest[],
  keys: readonly string[],
  existing: readonly (CustomerRecord | undefined)[],
): Promise<{ target: PartnerTarget; partner?: string }[]> {
  const home: PartnerTarget = { queue: deps.queue, partnerTenantId: deps.partnerTenantId, profile: deps.profile };
  const several = deps.partners;
  if (!several) return requests.map(() => ({ target: home }));
  // Producers lower-case it already (the request schema); a caller of this function may not.
  const names = requests.map((r) => r.partner?.trim().toLowerCase() || several.defaultName);
  const mismatches = names.flatMap((asked, i) => {
    const recorded = existing[i]?.partner ?? (existing[i] ? several.defaultName : asked);
    return recorded === asked ? [] : [{ key: keys[i] as string, recorded, asked }];
  });
  if (mismatches.length > 0) throw new PartnerMismatchError(mismatches);
  const targets = new Map<string, PartnerTarget>([[several.defaultName, home]]);
  for (const name of new Set(names)) if (!targets.has(name)) targets.set(name, await several.target(name));
  return names.map((name) => ({ target: targets.get(name) as PartnerTarget, partner: name }));
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
}

/** The job that starts a customer's chain of run `runId` in batch `batchId`. */
export function firstStepJob(
  deps: Pick<EnqueueDeps, 'box' | 'profile' | 'partnerTenantId'>,
  input: {
    batchId: string;
    key: string;
    runId: string;
    request: CustomerRequest;
    position?: number;
    adopt?: ChainData['adopt'];
  },
  steps: StepName[] = plannedSteps(deps.profile),
) {
  const name = steps[0] as StepName;
  return {
    name,
    data: chainData(deps, { ...input, steps }),
    opts: { jobId: jobIdFor(input.key, name), priority: FIRST_STEP_PRIORITY },
  };
}

function chainData(
  deps: Pick<EnqueueDeps, 'box' | 'profile' | 'partnerTenantId'>,
  input: {
    batchId: string;
    key: string;
    runId: string;
    request: CustomerRequest;
    steps: StepName[];
    position?: number;
    adopt?: ChainData['adopt'];
  },
): ChainData {
  const { password, ...request } = input.request;
  return chainDataSchema.parse({
    batchId: input.batchId,
    customerKey: input.key,
    runId: input.runId,
    partnerTenantId: deps.partnerTenantId,
    // A password given by the caller never sits in Redis in clear.
    request: {
      ...request,
      ...(password ? { password_sealed: deps.box.seal(password, customerField(input.key, 'password')) } : {}),
    },
    profile: deps.profile,
    steps: input.steps,
    facts: {},
    ...(input.position !== undefined ? { position: input.position } : {}),
    ...(input.adopt ? { adopt: input.adopt } : {}),
  });
}

/** Removes every step job of the customer's previous chain so the new chain's ids are free. */
export async function removeChain(queue: OnboardingQueue, customerKey: string): Promise<void> {
  await Promise.all(STEP_NAMES.map((step) => queue.remove(jobIdFor(customerKey, step))));
}
