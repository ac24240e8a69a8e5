import { describe, expect, it } from 'vitest';
import { initialPlan, judge, rateAt, type EstimatorSettings, type RatePlan } from '../../src/acronis/rate-estimator.js';

/** ACRONIS_RATE_LIMIT=100 with the budget's defaults (5 % margin, ceiling = the limit). */
const SETTINGS: EstimatorSettings = {
  start: 95,
  ceiling: 95,
  margin: 0.05,
  floor: 9.5,
  holdMs: { first: 15_000, max: 25_000 },
  fastSlope: 19,
};

/** A seeded generator (mulberry32), so the scattered 429s are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent {
  at: number;
  refused: boolean;
}

interface Run {
  sent: Sent[];
  limits: { at: number; why: string }[];
  plan: RatePlan;
}

/**
 * The budget against an API with a sliding one-second window (as the simulator's): one request
 * at every slot the plan grants, a 429 when the window is full (or at random, `noise`), each 429
 * judged on the last 2 s, a pause moving the next slot. Times in µs.
 */
function drive(opts: {
  seconds: number;
  limitAt: (seconds: number) => number;
  noise?: number;
  settings?: EstimatorSettings;
}): Run {
  const settings = opts.settings ?? SETTINGS;
  const roll = seeded(21);
  let plan = initialPlan(settings, 0);
  const sent: Sent[] = [];
  const limits: Run['limits'] = [];
  const admitted: number[] = [];
  let t = 0;
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
      const recent = sent.filter((s) => s.at > t - 2e6);
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

const refusedBetween = (run: Run, from: number, to: number) =>
  run.sent.filter((s) => s.refused && s.at >= from * 1e6 && s.at < to * 1e6).length;

/** The fewest requests the API accepted in any second that starts between `from` and `to` (s). */
function leastAcceptedPerSecond(run: Run, from: number, to: number): number {
  let least = Infinity;
  for (let start = from; start + 1 <= to; start += 0.1) {
    const accepted = run.sent.filter((s) => !s.refused && s.at >= start * 1e6 && s.at < (start + 1) * 1e6).length;
    least = Math.min(least, accepted);
  }
  return least;
}

describe('rate estimator: noise or a limit', () => {
  it('3 % of answers 429 at random, at the configured pace: all noise, the rate stays where it was told', () => {
    const run = drive({ seconds: 120, limitAt: () => Infinity, noise: 0.03 });
    expect(refusedBetween(run, 0, 120)).toBeGreaterThan(250);
    expect(run.limits).toEqual([]);
    expect(rateAt(run.plan, SETTINGS, 120e6)).toBe(95);
  });

  it('4 429s within the time of 5 grants are a limit; the rate is cut to what the API accepted in its last second', () => {
    const plan = initialPlan(SETTINGS, 0);
    const now = 10e6;
    // 60 accepted in the last second, then four refused in a row.
    const grants = Array.from({ length: 64 }, (_, i) => now - 63 * 10_526 + i * 10_526);
    const refusals = grants.slice(-4);
    const verdict = judge(plan, SETTINGS, { now, grants, refusals, retryAfterMs: 1_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind !== 'limit') return;
    expect(verdict.acceptedPerSecond).toBe(60);
    expect(verdict.plan.rate).toBeCloseTo(57, 6);
    // A deep cut: everyone waits out the answer's Retry-After, the API's window still holds the old pace.
    expect(verdict.pauseMs).toBe(1_000);
    // Three of the four alone are still noise.
    expect(judge(plan, SETTINGS, { now, grants, refusals: refusals.slice(-3) }).kind).toBe('noise');
  });

  it('at a limit found a little too high, a burst of 429s trims the rate to what the API accepted, not to half', () => {
    // 52/s found where the API allows 50: the pace (49.4/s) grazes the limit, and a bunch of requests meets it.
    const plan: RatePlan = {
      ...initialPlan(SETTINGS, 0),
      rate: 49.4,
      found: 52,
      climbFrom: 20e6,
      settledAt: 1e6,
      epoch: 1,
    };
    const now = 10e6;
    const grants = Array.from({ length: 54 }, (_, i) => now - 53 * 20_243 + i * 20_243);
    const verdict = judge(plan, SETTINGS, { now, grants, refusals: grants.slice(-4), retryAfterMs: 1_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind !== 'limit') return;
    expect(verdict.why).toBe('a limit below the pace');
    // 50 sent in the second up to the first refused one (it included): 49 accepted, the rate 5 % under that.
    expect(verdict.plan.found).toBe(49);
    expect(verdict.plan.rate).toBeCloseTo(49 * 0.95, 6);
  });

  it('a burst judged late reads the limit in the second before its first refused request was sent', () => {
    const plan = initialPlan(SETTINGS, 0);
    // 95/s from 0 against an API that admits 60 a second: the 61st request (sent at 0.63 s) and
    // the next three are refused. Their answers are judged 0.12 s later (a busy event loop), when
    // eight more requests have left that the API is refusing too, their answers not back yet.
    const grants = Array.from({ length: 72 }, (_, i) => i * 10_526);
    const refusals = grants.slice(60, 64);
    const now = grants[63]! + 120_000;
    const verdict = judge(plan, SETTINGS, { now, grants, refusals, retryAfterMs: 1_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind !== 'limit') return;
    // Read up to `now` it was 68 (the eight on their way counted as accepted): a rate over the limit.
    expect(verdict.acceptedPerSecond).toBe(60);
    expect(verdict.plan.found).toBe(60);
  });

  it('at the right limit, a burst of 429s after requests bunched over it is noise, not a drop', () => {
    const plan = initialPlan(SETTINGS, 0);
    // 95/s told 100/s by an API that allows 100: a late event loop sent five at once, so the
    // second before the first 429 holds 100 accepted, and the next four were refused.
    const steady = Array.from({ length: 95 }, (_, i) => 10e6 - 1e6 + (i + 1) * 10_526);
    const bunched = Array.from({ length: 9 }, (_, i) => steady.at(-1)! + 1_000 + i * 100);
    const grants = [...steady, ...bunched];
    const refusals = grants.slice(-4);
    const verdict = judge(plan, SETTINGS, { now: refusals.at(-1)! + 5_000, grants, refusals, retryAfterMs: 1_000 });
    expect(verdict).toMatchObject({ kind: 'noise' });
  });

  it('a drop right after requests bunched over the limit is still found, a few 429s later', () => {
    const plan = initialPlan(SETTINGS, 0);
    // Nine bunched, then the API's limit drops to 50/s: everything after the bunch is refused.
    const steady = Array.from({ length: 95 }, (_, i) => 10e6 - 1e6 + (i + 1) * 10_526);
    const bunched = Array.from({ length: 9 }, (_, i) => steady.at(-1)! + 1_000 + i * 100);
    const after = Array.from({ length: 20 }, (_, i) => bunched.at(-1)! + (i + 1) * 10_526);
    const grants = [...steady, ...bunched];
    const refusals: number[] = [];
    let verdict;
    for (const sent of after) {
      grants.push(sent);
      refusals.push(sent);
      verdict = judge(plan, SETTINGS, { now: sent + 5_000, grants, refusals, retryAfterMs: 1_000 });
      if (verdict.kind === 'limit') break;
    }
    expect(verdict).toMatchObject({ kind: 'limit', why: 'the limit dropped' });
    // The fourth 429 still finds the API's last second full (bunched): the fifth does not.
    expect(refusals.length).toBe(5);
  });

  it('a drop judged late, when its 429s already fill the last second, is still a drop', () => {
    const plan = initialPlan(SETTINGS, 0);
    const now = 10e6;
    // 95/s for 2 s; the limit dropped 0.4 s ago and every request since was refused.
    const grants = Array.from({ length: 190 }, (_, i) => now - 189 * 10_526 + i * 10_526);
    const refusals = grants.filter((g) => g > now - 0.4e6);
    const verdict = judge(plan, SETTINGS, { now, grants, refusals, retryAfterMs: 1_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind !== 'limit') return;
    expect(verdict.why).toBe('the limit dropped');
    expect(verdict.plan.rate).toBeCloseTo(47.5, 6);
  });

  it('a 429 answered within the settling time of a decision belongs to it: noise, no second cut', () => {
    const plan: RatePlan = { ...initialPlan(SETTINGS, 0), rate: 57, settledAt: 5e6, epoch: 1 };
    const grants = Array.from({ length: 10 }, (_, i) => 4.9e6 + i * 1_000);
    expect(judge(plan, SETTINGS, { now: 4.95e6, grants, refusals: grants }).kind).toBe('noise');
  });
});

describe('rate estimator: finding a lower limit', () => {
  it('told 100/s by an API that allows 60/s: at most 5 429s, then ≥ 93 % of 60/s from 5 s on', () => {
    const run = drive({ seconds: 40, limitAt: () => 60 });
    expect(refusedBetween(run, 0, 40)).toBeLessThanOrEqual(5);
    expect(leastAcceptedPerSecond(run, 5, 15)).toBeGreaterThanOrEqual(0.93 * 60);
    expect(run.plan.found).toBe(60);
  });

  it('an API whose limit drops from 100/s to 50/s mid-run: at most 5 429s after the drop, ≥ 93 % of 50/s within 5 s', () => {
    const run = drive({ seconds: 30, limitAt: (s) => (s < 10 ? 100 : 50) });
    expect(refusedBetween(run, 0, 10)).toBe(0);
    expect(refusedBetween(run, 10, 30)).toBeLessThanOrEqual(5);
    expect(leastAcceptedPerSecond(run, 15, 25)).toBeGreaterThanOrEqual(0.93 * 50);
    expect(run.limits[0]?.why).toBe('the limit dropped');
  });
});

/** 50/s found, the hold over at 1 s: probing slowly up to 55/s, then climbing fast toward the ceiling. */
const AFTER_50: RatePlan = {
  ...initialPlan(SETTINGS, 0),
  rate: 47.5,
  found: 50,
  probeTop: 55,
  probeSlope: 5,
  climbFrom: 1e6,
};

describe('rate estimator: climbing to a higher limit', () => {
  it('an API whose limit rises from 50/s to 100/s: ≥ 93 % of 100/s within 30 s of the rise, whatever the moment of the rise', () => {
    // Early in a hold, and late: the worst case is a rise just after a probe met the old limit.
    for (const rise of [12, 18, 20, 36, 45]) {
      const run = drive({ seconds: rise + 32, limitAt: (s) => (s < rise ? 50 : 100) });
      expect(leastAcceptedPerSecond(run, rise + 30, rise + 32)).toBeGreaterThanOrEqual(93);
    }
  });

  it('a climb that meets a limit keeps what the API accepted there, not taking the burst for a drop', () => {
    // Past the slow part of a probe above 50/s, climbing at 19/s per second; the API now allows 70/s.
    const plan: RatePlan = { ...AFTER_50, settledAt: 1e6, epoch: 2 };
    const now = 3.4e6;
    expect(rateAt(plan, SETTINGS, now)).toBeGreaterThan(70);
    // The last second's 74 grants at the climbing pace; the API refused the last four.
    const grants = Array.from({ length: 74 }, (_, i) => now - 73 * 13_500 + i * 13_500);
    const verdict = judge(plan, SETTINGS, { now, grants, refusals: grants.slice(-4), retryAfterMs: 1_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind !== 'limit') return;
    expect(verdict.why).toBe('a limit below the pace');
    expect(verdict.plan.found).toBe(70);
    expect(verdict.plan.rate).toBeCloseTo(66.5, 6);
  });

  it('while the limit stays put, probes above it cost one 429 each, at most one every 15–25 s', () => {
    const run = drive({ seconds: 120, limitAt: () => 60 });
    const probes = run.limits.filter((l) => l.why === 'a probe above the limit met it');
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.length).toBeLessThanOrEqual(120 / 15);
    expect(refusedBetween(run, 5, 120)).toBeLessThanOrEqual(probes.length);
  });

  it('once past the slow part of a probe, a lone 429 is noise again: the limit has moved', () => {
    const plan = AFTER_50;
    // The last second's grants at the pace of the moment.
    const grants = (now: number) => {
      const gap = 1e6 / rateAt(plan, SETTINGS, now);
      return Array.from({ length: Math.floor(1e6 / gap) }, (_, i) => now - i * gap).reverse();
    };
    // 1 s into the climb: 52.5/s, probing just above the limit found; one 429 means it is still there.
    expect(judge(plan, SETTINGS, { now: 2e6, grants: grants(2e6), refusals: [2e6] }).kind).toBe('limit');
    // 10 s in: far past it, at the ceiling.
    expect(rateAt(plan, SETTINGS, 11e6)).toBe(95);
    expect(judge(plan, SETTINGS, { now: 11e6, grants: grants(11e6), refusals: [11e6] }).kind).toBe('noise');
  });

  it('climbs no higher than the ceiling, and from a configured rate below it toward it', () => {
    const settings = { ...SETTINGS, start: 9.5, ceiling: 190, fastSlope: 38 };
    const run = drive({ seconds: 40, limitAt: () => 60, settings });
    expect(leastAcceptedPerSecond(run, 25, 35)).toBeGreaterThanOrEqual(0.93 * 60);
    const open = drive({ seconds: 40, limitAt: () => Infinity, settings });
    expect(rateAt(open.plan, settings, 40e6)).toBe(190);
  });
});

describe('rate estimator: the right limit', () => {
  it('told exactly what the API allows: no 429, the configured rate throughout', () => {
    const run = drive({ seconds: 30, limitAt: () => 100 });
    expect(refusedBetween(run, 0, 30)).toBe(0);
    expect(leastAcceptedPerSecond(run, 0, 30)).toBeGreaterThanOrEqual(94);
  });
});
