/**
 * What the request budget makes of a 429: noise (a busy back end, another client, a guard on one
 * endpoint — only the refused request waits) or a limit (the shared rate is cut to what the API
 * accepted), and how the rate climbs back toward the ceiling afterwards. Pure: the budget keeps
 * the plan and the recent grants and refusals in Redis and runs these decisions on them, so every
 * process agrees (docs/resilience.md "429s: noise or a limit").
 */

/** The shared rate over time: `rate` until `climbFrom`, then up along `probeSlope` to `probeTop`, then along the fast slope. */
export interface RatePlan {
  /** Requests per second granted now (until `climbFrom`). */
  rate: number;
  /** µs on Redis' clock; the rate holds until then. */
  climbFrom: number;
  /** The API's limit as last found (requests in any second); 0: none found, the rate is the configured one. */
  found: number;
  /** Up to here (requests/s) the climb goes slowly: the limit was near. 0: no slow part. */
  probeTop: number;
  /** Requests/s gained per second in the slow part. */
  probeSlope: number;
  /** How long the rate holds after a limit before probing above it, ms; doubles when a probe meets the limit again. */
  holdMs: number;
  /** Answers before this (µs) belong to the decision that set it: requests already on their way. */
  settledAt: number;
  /** Decisions so far: a decision is written only over the plan it was made from. */
  epoch: number;
}

export interface EstimatorSettings {
  /** The configured rate less the margin: where the plan starts. */
  start: number;
  /** The highest rate granted (the ceiling less the margin). */
  ceiling: number;
  /** Share of a found limit left unused, as for the configured one. */
  margin: number;
  /** The lowest rate a cut goes to. */
  floor: number;
  /** Hold after the first limit found, and the longest hold. */
  holdMs: { first: number; max: number };
  /** Requests/s gained per second above the slow part: fast enough to reach a risen limit in seconds. */
  fastSlope: number;
}

/**
 * This many refusals among this many consecutive grants are a limit; scattered ones are noise. An
 * API at its limit refuses every request until its window frees, so 4 of 5 come together; 3 % of answers
 * refused at random do that about once an hour at 95/s (3 of 4: every couple of minutes).
 */
export const CLUSTER = { refusals: 4, withinGrants: 5 } as const;
/**
 * After three 429s close together the next sends leave this far apart, every slot reserved
 * before voided: a fourth 429, if it comes, is judged before a fifth request leaves. A 429 took
 * up to ~20 ms to judge on a loaded 2-core host, and at 95/s the fifth request left 10.5 ms after
 * the fourth (BENCHMARKS.md "The request budget under real 429s"). Under 3 % noise three of four
 * come every couple of minutes, and this costs about 0.1 s of sends each time.
 */
export const SPACE_OUT_MS = 50;
/** A second with this share of its grants refused (and enough grants to tell) is a limit too. */
export const LIMIT_SHARE = { share: 0.25, minGrants: 12 } as const;
/**
 * A steady pace whose last second was (nearly) all accepted, above the limit last found: the limit
 * dropped below it just now, and the API's window still holds the old pace, so what it accepted
 * says nothing of the new limit.
 */
const DROP = { acceptedShare: 0.9, cut: 0.5 } as const;
/** The slow part of the climb: up to 10 % above the limit found, at 10 % of it per second. */
const PROBE = { span: 0.1, slope: 0.1 } as const;
/** A cut deeper than this (not a probe's) moves the schedule by the answer's Retry-After: the API's window is still full of the old pace. */
const PAUSE_BELOW = 0.9;
/** How long after a decision the answers to requests sent before it keep arriving. */
const SETTLE_MS = 250;
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** The plan before any 429: the configured rate, climbing toward a higher ceiling after the first hold. */
export function initialPlan(settings: EstimatorSettings, now: number): RatePlan {
  return {
    rate: settings.start,
    climbFrom: now + settings.holdMs.first * 1000,
    found: 0,
    probeTop: 0,
    probeSlope: 0,
    holdMs: settings.holdMs.first,
    settledAt: 0,
    epoch: 0,
  };
}

/** The rate the plan grants at `now` (µs). request-budget-reserve.lua evaluates the same. */
export function rateAt(plan: RatePlan, settings: EstimatorSettings, now: number): number {
  let rate = Math.min(plan.rate, settings.ceiling);
  if (now <= plan.climbFrom || rate >= settings.ceiling) return rate;
  let seconds = (now - plan.climbFrom) / 1e6;
  if (rate < plan.probeTop && plan.probeSlope > 0) {
    const slow = (plan.probeTop - rate) / plan.probeSlope;
    if (seconds <= slow) return rate + plan.probeSlope * seconds;
    rate = plan.probeTop;
    seconds -= slow;
  }
  return Math.min(settings.ceiling, rate + settings.fastSlope * seconds);
}

/** What the budget saw around a 429, all on Redis' clock (µs). */
export interface Observations {
  now: number;
  /** Send times of the grants of the last second or two, sorted. */
  grants: number[];
  /**
   * Times of the 429s of the last second or two (this one included), sorted: when each refused
   * request was sent, where the caller knew it (the transport passes its slot), else when its
   * answer came. Send times say what the API had admitted when it refused; answer times come
   * later by the round trip and the caller's event loop, which on a loaded host is tens of ms.
   */
  refusals: number[];
  /** The answer's Retry-After, if it had one. */
  retryAfterMs?: number;
}

export type Verdict =
  /** `spaceOut`: one refusal short of a limit; the next sends go out spaced until the next answer tells (SPACE_OUT_MS). */
  | { kind: 'noise'; why: string; spaceOut?: true }
  | { kind: 'limit'; why: string; plan: RatePlan; pauseMs: number; acceptedPerSecond: number };

const inRange = (times: number[], from: number, to: number) => times.filter((t) => t > from && t <= to).length;

/**
 * The newest `count` refusals are among at most `withinGrants` consecutive grants: counted in
 * grants, not in time, so sends spaced out after three 429s (SPACE_OUT_MS) do not spread a
 * limit's refusals beyond the cluster.
 */
function closeTogether(refusals: number[], grants: number[], count: number, withinGrants: number): boolean {
  if (refusals.length < count) return false;
  const from = refusals[refusals.length - count] as number;
  const to = refusals[refusals.length - 1] as number;
  // Refusals whose send time was not known (an answer time) are no grant: count them apart.
  const sent = grants.filter((t) => t >= from && t <= to);
  const unmatched = refusals.slice(-count).filter((t) => !sent.includes(t)).length;
  return sent.length + unmatched <= withinGrants;
}

/** Noise or a limit, and for a limit the plan that follows it. */
export function judge(plan: RatePlan, settings: EstimatorSettings, seen: Observations): Verdict {
  const { now } = seen;
  if (now < plan.settledAt) return { kind: 'noise', why: 'an answer to a request sent before the last decision' };
  const rate = rateAt(plan, settings, now);
  // Probing: climbing slowly just above the limit found, where one 429 says it is still there.
  // Past that part the limit has moved, and a lone 429 is noise again.
  const probing = plan.found > 0 && now > plan.climbFrom && rate < plan.probeTop;
  const fresh = seen.refusals.filter((t) => t >= plan.settledAt);
  // Read at the newest refusal, not at `now`: a 429 judged late (a busy event loop) would find
  // its own burst older than the cluster's span, and grants sent after it still on their way.
  const last = Math.min(now, Math.max(...fresh, 0) || now);
  const clustered = probing
    ? fresh.length > 0
    : closeTogether(fresh, seen.grants, CLUSTER.refusals, CLUSTER.withinGrants);
  const grantsInSecond = inRange(seen.grants, last - 1e6, last);
  const refusedInSecond = inRange(fresh, last - 1e6, last);
  const dense = grantsInSecond >= LIMIT_SHARE.minGrants && refusedInSecond / grantsInSecond >= LIMIT_SHARE.share;
  if (!clustered && !dense) {
    // One short of the cluster: a limit refuses the very next request too, and while that 429
    // is being judged the requests after it would leave and be refused as well.
    if (!probing && closeTogether(fresh, seen.grants, CLUSTER.refusals - 1, CLUSTER.withinGrants - 1))
      return { kind: 'noise', why: 'three 429s close together: the next sends are spaced out', spaceOut: true };
    return { kind: 'noise', why: 'a scattered 429' };
  }

  // The API counts what it accepted in its last second: that is its limit, read in the second
  // before the burst's first 429 (what was sent after it and not yet answered is being refused
  // too, and would read as accepted) — unless that whole second went through at a steady pace
  // above the limit last found, when the limit has just dropped below it by an unknown amount.
  // Climbing, or holding at a limit found, the pace met a limit it was at.
  const acceptedBy = (t: number) => Math.max(0, inRange(seen.grants, t - 1e6, t) - inRange(seen.refusals, t - 1e6, t));
  const first = fresh.find((t) => t > last - 1e6) ?? last;
  const accepted = acceptedBy(first);
  // The API had accepted all that the limit the rate keeps its margin under allows, before the
  // burst and still at its last 429: the 429s are our own requests bunched over it (a late event
  // loop sends several at once), not a limit below the pace — read as a drop they halved the right
  // rate for a 15 s hold. Only they wait. A limit that dropped just then refuses on, and within a
  // few 429s what it accepted in the second up to the last one is under it.
  const allowed = Math.round(rate / (1 - settings.margin));
  if (accepted >= allowed && acceptedBy(last) >= allowed)
    return { kind: 'noise', why: 'requests bunched over the limit the rate is set under' };
  const climbing = probing || (now > plan.climbFrom && rate < settings.ceiling);
  const dropped = !climbing && accepted >= DROP.acceptedShare * rate && accepted > plan.found;
  const found = Math.max(settings.floor, dropped ? (rate * DROP.cut) / (1 - settings.margin) : accepted);
  const next = Math.max(settings.floor, Math.min(settings.ceiling, found * (1 - settings.margin)));
  // A probe's window holds about the limit found, not an older, faster pace: trimming the rate is
  // enough. (Its cut can still look deep: the API's one-second window lags a climb, so the rate
  // is ~3/s past the limit when the window fills, and more by the time the 429 comes back — a
  // 1-s pause of everyone there cost 2–3 % of a run at 60/s.)
  const pauseMs = !probing && next < PAUSE_BELOW * rate ? (seen.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS) : 0;
  const holdMs = probing ? Math.min(settings.holdMs.max, plan.holdMs * 2) : settings.holdMs.first;
  const why = probing ? 'a probe above the limit met it' : dropped ? 'the limit dropped' : 'a limit below the pace';
  return {
    kind: 'limit',
    why,
    pauseMs,
    acceptedPerSecond: accepted,
    plan: {
      rate: next,
      climbFrom: now + (pauseMs + holdMs) * 1000,
      found,
      probeTop: found * (1 + PROBE.span),
      probeSlope: found * PROBE.slope,
      holdMs,
      settledAt: now + (pauseMs + SETTLE_MS) * 1000,
      epoch: plan.epoch + 1,
    },
  };
}
