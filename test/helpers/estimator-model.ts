import { initialPlan, judge, rateAt, type EstimatorSettings, type RatePlan } from '../../src/acronis/rate-estimator.js';
import { seededRandom } from '../../src/seeded-random.js';

/** ACRONIS_RATE_LIMIT=100 with the request budget's defaults (5 % margin, ceiling = the limit). */
export const SETTINGS_AT_100: EstimatorSettings = {
  start: 95,
  ceiling: 95,
  margin: 0.05,
  floor: 9.5,
  holdMs: { first: 15_000, max: 25_000 },
  fastSlope: 19,
};

export interface Sent {
  at: number;
  refused: boolean;
}

export interface Run {
  sent: Sent[];
  limits: { at: number; why: string }[];
  plan: RatePlan;
}

/**
 * The budget against an API with a sliding one-second window (as the simulator's): one request
 * at every slot the plan grants, a 429 when the window is full (or at random, `noise`), each 429
 * judged on the last 2 s, a pause moving the next slot. Times in µs.
 */
export function drive(opts: {
  seconds: number;
  limitAt: (seconds: number) => number;
  noise?: number;
  settings?: EstimatorSettings;
  /** Of the random 429s; 21 unless given. */
  seed?: number;
}): Run {
  const settings = opts.settings ?? SETTINGS_AT_100;
  const roll = seededRandom(opts.seed ?? 21);
  let plan = initialPlan(settings, 0);
  const sent: Sent[] = [];
  const limits: Run['limits'] = [];
  const admitted: number[] = [];
  let t = 0;
  // The first request of the last 2 s: found by moving on, not by filtering the whole history.
  let start = 0;
  while (t < opts.seconds * 1e6) {
    while (admitted.length > 0 && admitted[0]! <= t - 1e6) admitted.shift();
    let refused = admitted.length >= opts.limitAt(t / 1e6);
    if (!refused) {
      admitted.push(t);
      refused = roll() < (opts.noise ?? 0);
    }
    sent.push({ at: t, refused });
    let next = t + 1e6 / rateAt(plan, settings, t);
    if (refused) {
      while (sent[start]!.at <= t - 2e6) start++;
      const recent = sent.slice(start);
      const verdict = judge(plan, settings, {
        now: t,
        grants: recent.map((s) => s.at),
        refusals: recent.filter((s) => s.refused).map((s) => s.at),
        retryAfterMs: 1_000,
      });
      if (verdict.kind === 'limit') {
        plan = verdict.plan;
        limits.push({ at: t, why: verdict.why });
        next = Math.max(t + 1e6 / plan.rate, t + verdict.pauseMs * 1000);
      }
    }
    t = next;
  }
  return { sent, limits, plan };
}
