import type { SimulatorState } from '../src/simulator/state.js';
import type { CustomerRecord } from '../src/workers/onboarding-store.js';
import type { FaultRates } from './soak-faults.js';

/** Objects the API holds more than once (each extra copy counts one), by kind. */
export interface Duplicates {
  tenants: number;
  users: number;
  tokens: number;
  activationEmails: number;
  passwordsSet: number;
}

export interface ImportOutcome {
  /** null: still running when the batch had ended and it was given time to print its summary. */
  code: number | null;
  printedSummary: boolean;
  /** The first line of its stderr, when it wrote one. */
  error: string | null;
}

export interface SoakReport {
  customers: number;
  done: number;
  failed: number;
  /** The failed customers (the first ten) with the step and the reason the store holds. */
  failures: { key: string; step: string; reason: string }[];
  /** In the CSV, but unknown to the store, or "done" without a tenant, user and token at the API. */
  lost: number;
  /** Known, neither done nor failed when the run ended. */
  stuck: number;
  /** The run stopped because the API saw no call for a while, not because the batch ended. */
  stalled: boolean;
  duplicates: Duplicates;
  /**
   * The activation e-mail goes out at most once: after an ambiguous send the customer is done
   * with `email-unconfirmed` (recorded) — and of the users, those the API sent no e-mail to.
   */
  unconfirmedEmails: { recorded: number; noEmailSent: number };
  /** API calls a customer needs without faults, measured on a fault-free warm-up. */
  callsPerCustomer: number;
  /** Every API call of the run (the access token's excepted). */
  calls: number;
  /** What the simulator answered with a fault: 5xx, 429 and dropped connections (resets and hangs). */
  faulted: { serverError: number; tooMany: number; dropped: number };
  seconds: number;
  rate: number;
  kills: { work: number; redis: number };
  import: ImportOutcome;
  /** Highest VmHWM, MiB, over every process of each role. */
  peakRssMiB: Record<string, number>;
  options: { latencyMs: number; jitterMs: number; workers: number; concurrency: number; rates: FaultRates };
}

function extraCopies(values: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
}

export function countDuplicates(state: SimulatorState): Duplicates {
  const overOne = (n: number) => Math.max(0, n - 1);
  return {
    tenants: extraCopies(state.tenants.flatMap((t) => (t.kind === 'customer' && t.customer_id ? [t.customer_id] : []))),
    users: extraCopies(state.users.map((u) => u.login.toLowerCase())),
    tokens: extraCopies(state.registrationTokens.map((r) => String(r.tenant_uuid))),
    activationEmails: state.users.reduce((sum, u) => sum + overOne(u.activation_emails_sent), 0),
    passwordsSet: state.users.reduce((sum, u) => sum + overOne(u.passwords_set), 0),
  };
}

/** Customers recorded `email-unconfirmed`, and of those the ones the API really sent no e-mail to. */
export function unconfirmedEmails(
  state: SimulatorState,
  records: readonly (CustomerRecord | undefined)[],
): SoakReport['unconfirmedEmails'] {
  const sent = new Map(state.users.map((u) => [u.id, u.activation_emails_sent]));
  const unconfirmed = records.filter((r) => r?.facts?.activation === 'email-unconfirmed');
  const noEmailSent = unconfirmed.filter((r) => (sent.get(r?.facts.userId ?? '') ?? 0) === 0).length;
  return { recorded: unconfirmed.length, noEmailSent };
}

/** Customers the store calls done whose tenant, user or registration token the API does not hold. */
export function doneButMissing(state: SimulatorState, records: readonly (CustomerRecord | undefined)[]): number {
  const tenants = new Set(state.tenants.map((t) => t.id));
  const users = new Set(state.users.map((u) => u.id));
  const tokens = new Set(state.registrationTokens.map((r) => String(r.tenant_uuid)));
  return records.filter((r) => {
    if (r?.state !== 'done') return false;
    const { tenantId, userId } = r.facts ?? {};
    return !tenantId || !tenants.has(tenantId) || !userId || !users.has(userId) || !tokens.has(tenantId);
  }).length;
}

/** What makes the soak fail; empty when it passed. */
export function soakProblems(r: SoakReport): string[] {
  const problems: string[] = [];
  if (r.lost > 0) problems.push(`${r.lost} customer(s) lost`);
  if (r.stuck > 0) problems.push(`${r.stuck} customer(s) stuck`);
  if (r.stalled) problems.push('the batch never ended');
  if (r.failed > 0)
    problems.push(
      `${r.failed} customer(s) failed: ` + r.failures.map((f) => `${f.key} at ${f.step}: ${f.reason}`).join('; '),
    );
  for (const [kind, n] of Object.entries(r.duplicates)) if (n > 0) problems.push(`${n} duplicate ${kind}`);
  if (r.import.code !== 0 || !r.import.printedSummary)
    problems.push(
      `import --wait exited ${r.import.code ?? '(still running)'}${r.import.printedSummary ? '' : ' without its summary'}` +
        (r.import.error ? `: ${r.import.error}` : ''),
    );
  return problems;
}

const pct = (x: number) => `${+(x * 100).toFixed(2)} %`;

export function soakTable(r: SoakReport): string {
  const floor = (r.customers * r.callsPerCustomer) / r.rate;
  const d = r.duplicates;
  const { rates } = r.options;
  const rows: [string, string][] = [
    ['customers done / failed', `${r.done} / ${r.failed} of ${r.customers}`],
    [
      'duplicates: tenants, users, tokens, activation e-mails, passwords set',
      `${d.tenants}, ${d.users}, ${d.tokens}, ${d.activationEmails}, ${d.passwordsSet}`,
    ],
    ['lost / stuck', `${r.lost} / ${r.stuck}`],
    [
      'e-mails unconfirmed (sent at most once): recorded / no e-mail sent',
      `${r.unconfirmedEmails.recorded} / ${r.unconfirmedEmails.noEmailSent}`,
    ],
    [
      'faults asked: 5xx, 429, hung, reset, commit-then-fail',
      [rates.serverError, rates.tooMany, rates.hang, rates.reset, rates.commitThenFail].map(pct).join(', '),
    ],
    [
      'faults met: 5xx, 429, dropped (reset or hung)',
      `${r.faulted.serverError}, ${r.faulted.tooMany}, ${r.faulted.dropped}`,
    ],
    ['kills: work (SIGKILL), redis-server (SIGKILL)', `${r.kills.work}, ${r.kills.redis}`],
    ['API calls per customer without faults (measured)', r.callsPerCustomer.toFixed(2)],
    [
      'API calls / retries (calls beyond N × calls)',
      `${r.calls} / ${r.calls - Math.round(r.customers * r.callsPerCustomer)}`,
    ],
    [
      'time / floor N × calls ÷ rate / ratio',
      `${r.seconds.toFixed(1)} s / ${floor.toFixed(1)} s / ${(r.seconds / floor).toFixed(2)}`,
    ],
    [
      'import --wait: exit code, summary printed',
      `${r.import.code ?? 'still running'}, ${r.import.printedSummary ? 'yes' : 'no'}`,
    ],
    [
      'peak RSS (VmHWM, highest of each role)',
      Object.entries(r.peakRssMiB)
        .map(([role, mib]) => `${role} ${mib.toFixed(0)} MiB`)
        .join(', '),
    ],
  ];
  return ['| figure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
