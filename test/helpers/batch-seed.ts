import { randomUUID } from 'node:crypto';
import type { OnboardingStore } from '../../src/workers/onboarding-store.js';

/**
 * A large batch written through the onboarding store as the pipeline leaves it mid-run: each
 * customer claimed, then moved to its state by the same Lua transitions the workers use (no
 * step jobs, no API calls), so pages over thousands of customers can be tested and measured
 * without onboarding them. Customer i is `<prefix>-<i, 6 digits>`, named `<Name> <i> GmbH`.
 */
export type SeededState = 'done' | 'failed' | 'running' | 'queued';

export interface SeedOptions {
  customers: number;
  /** Key prefix and name of the customers. */
  prefix?: string;
  name?: string;
  /** Customer i's state; by default 3 % failed, 5 % running, 2 % queued, the rest done. */
  stateOf?: (i: number) => SeededState;
  /** Which failed customers failed on a conflict only a change resolves (default: every 1,000th). */
  needsChange?: (i: number) => boolean;
  /** Which done customers' activation e-mail is unconfirmed (default: 2 in 1,000). */
  unconfirmed?: (i: number) => boolean;
  /** Customer i's partner, recorded as an install with several records it (default: none). */
  partnerOf?: (i: number) => string | undefined;
}

export const SEED_STEPS =
  'create-tenant,enable-offering-items,create-user,assign-roles,activate-user,create-agent-token,finish';

export function defaultStateOf(i: number): SeededState {
  const r = i % 100;
  if (r < 3) return 'failed';
  if (r < 8) return 'running';
  if (r < 10) return 'queued';
  return 'done';
}

export function seededKey(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(6, '0')}`;
}

export async function seedBatch(
  store: OnboardingStore,
  batch: { source: string; label: string },
  opts: SeedOptions,
): Promise<string> {
  const { id } = await store.createBatch(batch);
  const prefix = opts.prefix ?? 'seeded';
  for (let start = 0; start < opts.customers; start += 1000) {
    const chunk = Array.from({ length: Math.min(1000, opts.customers - start) }, (_, j) => start + j);
    await store.claimAll(
      chunk.map((i) => ({
        batchId: id,
        key: seededKey(prefix, i),
        runId: randomUUID(),
        position: i,
        hasJob: true,
        fields: {
          name: `${opts.name ?? 'Seeded Customer'} ${i} GmbH`,
          steps: SEED_STEPS,
          ...(opts.partnerOf?.(i) ? { partner: opts.partnerOf(i) } : {}),
        },
      })),
    );
    await Promise.all(chunk.map((i) => moveTo(store, seededKey(prefix, i), i, opts)));
  }
  return id;
}

async function moveTo(store: OnboardingStore, key: string, i: number, opts: SeedOptions): Promise<void> {
  const state = (opts.stateOf ?? defaultStateOf)(i);
  if (state === 'queued') return;
  await store.markRunning(key, 'create-tenant', 1, ''); // '': whichever run holds the record
  const facts = { tenantId: randomUUID(), userId: randomUUID(), login: `admin-${i}` };
  if (state === 'running') {
    await store.markRunning(key, 'create-user', 1, '');
  } else if (state === 'failed') {
    const needsChange = (opts.needsChange ?? ((n) => n % 1000 === 0))(i);
    const change = needsChange ? { field: 'login', value: `admin-${i}`, owner: 'another tenant' } : undefined;
    await store.recordFacts(key, { tenantId: facts.tenantId });
    const reason = `create-user: the API answered 409: login admin-${i} is taken`;
    await store.markFailed(key, 'create-user', reason, false, change);
  } else {
    const unconfirmed = (opts.unconfirmed ?? ((n) => n % 500 === 57))(i);
    await store.recordFacts(key, { ...facts, activation: unconfirmed ? 'email-unconfirmed' : 'email-sent' });
    await store.markDone(key);
  }
}
