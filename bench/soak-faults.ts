import type { Fault } from '../src/simulator/options.js';

/** The share of API requests that meet each fault (0.05 = 5 %). */
export interface FaultRates {
  serverError: number;
  tooMany: number;
  /** Answered never: the client's own timeout (ACRONIS_TIMEOUT_MS) is what ends the request. */
  hang: number;
  /** Connection reset; on a mutating request half before the change is applied, half after it. */
  reset: number;
  /** The change is applied, then the answer is a 500. */
  commitThenFail: number;
}

export const DEFAULT_RATES: FaultRates = {
  serverError: 0.05,
  tooMany: 0.03,
  hang: 0.01,
  reset: 0.01,
  commitThenFail: 0.02,
};

const NEVER_MS = 24 * 3600_000;
const MUTATING = ['POST', 'PUT', 'DELETE'];

/**
 * The simulator's fault list for these rates. It takes the first fault that matches and wins
 * its roll, so each probability is raised by what the earlier faults already took: a request
 * then meets each fault at exactly its rate. A GET has no change to apply, so its resets all
 * come before the (absent) change; a mutating request's "after" half is commit-then-fail with
 * `drop`, which applies the change and then destroys the socket.
 */
export function soakFaults(r: FaultRates): Fault[] {
  const wanted: [Fault, number, 'all' | 'read' | 'write'][] = [
    [{ kind: '5xx', status: 503 }, r.serverError, 'all'],
    [{ kind: '429' }, r.tooMany, 'all'],
    [{ kind: 'hang', hangMs: NEVER_MS }, r.hang, 'all'],
    [{ kind: 'reset', methods: ['GET'] }, r.reset, 'read'],
    [{ kind: 'reset', methods: MUTATING }, r.reset / 2, 'write'],
    [{ kind: 'commit-then-fail', drop: true }, r.reset / 2, 'write'],
    [{ kind: 'commit-then-fail' }, r.commitThenFail, 'write'],
  ];
  const taken = { read: 0, write: 0 };
  const faults: Fault[] = [];
  for (const [fault, rate, scope] of wanted) {
    const before = scope === 'all' ? taken.read : taken[scope];
    if (rate > 0) faults.push({ ...fault, probability: Math.min(1, rate / (1 - before)) });
    if (scope !== 'write') taken.read += rate;
    if (scope !== 'read') taken.write += rate;
  }
  return faults;
}
