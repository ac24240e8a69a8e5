import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { SecretBox } from '../secrets/secret-box.js';
import { chainDataSchema, plannedSteps, STEP_NAMES, type ChainData, type StepName } from '../onboarding/chain.js';
import { customerKeyOf, type CustomerRequest } from '../onboarding/customer-request.js';
import type { Profile } from '../onboarding/profile.js';
import type { BatchRecord, EnqueueOutcome, OnboardingStore } from './onboarding-store.js';
import { jobIdFor } from './queue.js';

/**
 * The one way customers enter the pipeline; the CSV import and the webhook both end here.
 * Each customer is claimed in the store and its chain's first step added with a
 * deterministic job id:
 *   - new customer → its chain starts;
 *   - onboarded already → "already-onboarded", nothing queued;
 *   - queued or running → "already-queued", the chain in flight carries on;
 *   - failed → the new request replaces the failed chain (its old step jobs are removed).
 */
export interface EnqueueDeps {
  queue: Queue<ChainData, unknown, StepName>;
  store: OnboardingStore;
  box: SecretBox;
  profile: Profile;
  partnerTenantId: string;
}

export interface EnqueueResult {
  batch: BatchRecord;
  customers: { key: string; name: string; outcome: EnqueueOutcome; jobId?: string }[];
}

export async function enqueueCustomers(
  deps: EnqueueDeps,
  batch: { source: string; label: string } | { id: string },
  requests: readonly CustomerRequest[],
): Promise<EnqueueResult> {
  const keys = requests.map(customerKeyOf);
  const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
  // A batch counts each customer once: the producers report a repeat to their caller instead.
  if (repeated !== undefined)
    throw new Error(`customer ${repeated} appears twice in one enqueue call; producers drop repeats first`);
  const record = 'id' in batch ? await deps.store.getBatch(batch.id) : await deps.store.createBatch(batch);
  if (!record) throw new Error(`batch ${'id' in batch ? batch.id : ''} does not exist`);
  const steps = plannedSteps(deps.profile);
  const customers: EnqueueResult['customers'] = [];
  let position = record.total;
  for (const request of requests) {
    const key = customerKeyOf(request);
    const runId = randomUUID();
    const existing = await deps.store.getCustomer(key);
    let jobId: string | undefined;
    if (!existing || existing.state === 'failed') {
      if (existing) await removeChain(deps.queue, key);
      const data = chainData(deps, { batchId: record.id, key, runId, request, steps });
      jobId = jobIdFor(key, steps[0] as StepName);
      // Added before the claim: a crash in between leaves a job that claims its customer
      // itself when it starts (same runId), never a claimed customer without a job.
      await deps.queue.add(steps[0] as StepName, data, { jobId });
    }
    const outcome = await deps.store.claim({
      batchId: record.id,
      key,
      runId,
      position: position++,
      fields: { name: request.name, steps: steps.join(',') },
    });
    customers.push({
      key,
      name: request.name,
      outcome,
      ...(outcome === 'queued' || outcome === 'replaced' ? { jobId } : {}),
    });
  }
  return { batch: (await deps.store.getBatch(record.id)) ?? record, customers };
}

function chainData(
  deps: EnqueueDeps,
  input: { batchId: string; key: string; runId: string; request: CustomerRequest; steps: StepName[] },
): ChainData {
  const { password, ...request } = input.request;
  return chainDataSchema.parse({
    batchId: input.batchId,
    customerKey: input.key,
    runId: input.runId,
    partnerTenantId: deps.partnerTenantId,
    // A password given by the caller never sits in Redis in clear.
    request: { ...request, ...(password ? { password_sealed: deps.box.seal(password) } : {}) },
    profile: deps.profile,
    steps: input.steps,
    facts: {},
  });
}

/** Removes every step job of the customer's previous chain so the new chain's ids are free. */
export async function removeChain(queue: Queue<ChainData, unknown, StepName>, customerKey: string): Promise<void> {
  for (const step of STEP_NAMES) await queue.remove(jobIdFor(customerKey, step));
}
