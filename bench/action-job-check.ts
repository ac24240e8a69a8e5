/**
 * `npx tsx bench/action-job-check.ts`: what checking an action job's data against its schema
 * costs a `work` process, from the first call on as V8 compiles and optimizes it — a `change`
 * job, which carries its profile, and a `suspend` job, which carries none (BENCHMARKS.md
 * "Lifecycle actions at the API's limit"). Each in a process of its own, as a new `work` process
 * meets them.
 */
import { execFileSync } from 'node:child_process';
import { actionJobSchema } from '../src/lifecycle/action.js';
import { parseProfile, STANDARD_PROFILE } from '../src/onboarding/profile.js';

const profile = parseProfile(
  {
    ...STANDARD_PROFILE,
    name: 'more-seats',
    offering_items: { ...STANDARD_PROFILE.offering_items, quotas: { workstations: { value: 80, overage: 5 } } },
  },
  'bench',
);
const job = (action: 'change' | 'suspend') =>
  JSON.stringify({
    actionId: 'a-1',
    batchId: 'ab-1',
    customerKey: 'bench-1',
    customerName: 'Bench 1',
    requester: { kind: 'operator', label: 'bench' },
    action,
    partnerTenantId: 'p-1',
    steps: action === 'change' ? ['change-offering-items', 'change-roles'] : ['set-enabled'],
    params: action === 'change' ? { profile } : {},
    facts: { tenantId: 't-1' },
  });

/** ms per call over each run of calls up to the marks, the job's text parsed each time as a worker does. */
function timed(text: string, marks: readonly number[]): string {
  const out: string[] = [];
  let done = 0;
  for (const upTo of marks) {
    const started = performance.now();
    for (let i = done; i < upTo; i++) actionJobSchema.safeParse(JSON.parse(text));
    out.push(`calls ${done + 1}–${upTo}: ${((performance.now() - started) / (upTo - done)).toFixed(3)} ms`);
    done = upTo;
  }
  return out.join(', ');
}

const action = process.argv[2];
if (action === 'change' || action === 'suspend') {
  console.log(`${action}: ${timed(job(action), [1, 2, 10, 100, 1000, 10_000])}`);
} else {
  console.log(`node ${process.version}`);
  for (const each of ['change', 'suspend'])
    execFileSync(process.execPath, [...process.execArgv, import.meta.filename, each], { stdio: 'inherit' });
}
