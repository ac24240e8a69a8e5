import { describe, expect, it } from 'vitest';
import { initialPlan, judge, rateAt, type RatePlan } from '../../src/acronis/rate-estimator.js';
import { drive, SETTINGS_AT_100, type Run } from '../helpers/estimator-model.js';

const SETTINGS = SETTINGS_AT_100;

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

/** The plan after one limit decision, settled at 1 s. */
const afterALimit = (plan: Partial<RatePlan>): RatePlan => ({
  ...initialPlan(SETTINGS, 0),
  settledAt: 1e6,
  epoch: 1,
  ...plan,
});

/** `count` times `gap` µs apart, the first at `first`. */
const spaced = (count: number, gap: number, first: number) => Array.from({ length: count }, (_, i) => first + i * gap);
/** `count` times `gap` µs apart, the last at `last`. */
const upTo = (last: number, count: number, gap: number) => spaced(count, gap, last - (count - 1) * gap);

/**
 * 95/s told 100/s by an API that allows 100: one second of the steady pace ending just before 10 s,
 * then `count` requests a late event loop sent at once, 0.1 ms apart.
 */
function bunchedAtTheLimit(count: number) {
  const steady = spaced(95, 10_526, 10e6 - 1e6 + 10_526);
  const bunched = spaced(count, 100, steady.at(-1)! + 1_000);
  return { steady, bunched };
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
    const grants = upTo(now, 64, 10_526);
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

  it('three 429s among four grants are noise that spaces the next sends out; two, or three far apart, are plain noise', () => {
    const plan = initialPlan(SETTINGS, 0);
    const now = 10e6;
    const grants = upTo(now, 64, 10_526);
    expect(judge(plan, SETTINGS, { now, grants, refusals: grants.slice(-3) })).toMatchObject({
      kind: 'noise',
      spaceOut: true,
    });
    expect(judge(plan, SETTINGS, { now, grants, refusals: grants.slice(-2) })).not.toHaveProperty('spaceOut');
    const apart = [grants.at(-30)!, grants.at(-15)!, grants.at(-1)!];
    expect(judge(plan, SETTINGS, { now, grants, refusals: apart })).not.toHaveProperty('spaceOut');
  });

  it('the cluster is counted in grants, not in time: four refusals in a row are a limit however far the last was spaced out', () => {
    const plan = initialPlan(SETTINGS, 0);
    // Three refused in a row at the pace, then (the slots between voided) the next send 50 ms later, refused too.
    const steady = upTo(10e6, 63, 10_526);
    const grants = [...steady, steady.at(-1)! + 50_000];
    const verdict = judge(plan, SETTINGS, { now: grants.at(-1)! + 5_000, grants, refusals: grants.slice(-4) });
    expect(verdict.kind).toBe('limit');
  });

  it('at a limit found a little too high, a burst of 429s trims the rate to what the API accepted, not to half', () => {
    // 52/s found where the API allows 50: the pace (49.4/s) grazes the limit, and a bunch of requests meets it.
    const plan = afterALimit({ rate: 49.4, found: 52, climbFrom: 20e6 });
    const now = 10e6;
    const grants = upTo(now, 54, 20_243);
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
    const grants = spaced(72, 10_526, 0);
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
    // Nine sent at once after a second at the steady pace: the second up to the first 429 holds
    // the 100 the API allows, and the last four were refused.
    const { steady, bunched } = bunchedAtTheLimit(9);
    const grants = [...steady, ...bunched];
    const refusals = grants.slice(-4);
    const verdict = judge(plan, SETTINGS, { now: refusals.at(-1)! + 5_000, grants, refusals, retryAfterMs: 1_000 });
    expect(verdict).toMatchObject({ kind: 'noise' });
  });

  it('a drop right after requests bunched over the limit is still found, a few 429s later', () => {
    const plan = initialPlan(SETTINGS, 0);
    // Nine bunched, then the API's limit drops to 50/s: everything after the bunch is refused.
    const { steady, bunched } = bunchedAtTheLimit(9);
    const after = spaced(20, 10_526, bunched.at(-1)! + 10_526);
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
    const grants = upTo(now, 190, 10_526);
    const refusals = grants.filter((g) => g > now - 0.4e6);
    const verdict = judge(plan, SETTINGS, { now, grants, refusals, retryAfterMs: 1_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind !== 'limit') return;
    expect(verdict.why).toBe('the limit dropped');
    expect(verdict.plan.rate).toBeCloseTo(47.5, 6);
  });

  it('a 429 answered within the settling time of a decision belongs to it: noise, no second cut', () => {
    const plan: RatePlan = { ...initialPlan(SETTINGS, 0), rate: 57, settledAt: 5e6, epoch: 1 };
    const grants = spaced(10, 1_000, 4.9e6);
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
    const grants = upTo(now, 74, 13_500);
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

  it("a probe that meets the limit trims the rate without pausing everyone: the API's window holds the limit, not an older pace", () => {
    // 60/s found, probing at 6/s per second: the window fills when the rate is 63/s (it lags the
    // climb by half a second), and the 429 is judged a round trip later, at about 64/s.
    const plan = afterALimit({ rate: 57, found: 60, probeTop: 66, probeSlope: 6, climbFrom: 15e6 });
    const now = 16.15e6;
    expect(rateAt(plan, SETTINGS, now)).toBeGreaterThan(63.4);
    const grants = upTo(now - 100_000, 61, 16_400);
    const verdict = judge(plan, SETTINGS, { now, grants, refusals: grants.slice(-1), retryAfterMs: 1_000 });
    expect(verdict).toMatchObject({ kind: 'limit', why: 'a probe above the limit met it', pauseMs: 0 });
    if (verdict.kind !== 'limit') return;
    expect(verdict.plan.rate).toBeCloseTo(57, 6);
  });

  it('once past the slow part of a probe, a lone 429 is noise again: the limit has moved', () => {
    const plan = AFTER_50;
    // The last second's grants at the pace of the moment.
    const grants = (now: number) => {
      const gap = 1e6 / rateAt(plan, SETTINGS, now);
      return upTo(now, Math.floor(1e6 / gap), gap);
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
