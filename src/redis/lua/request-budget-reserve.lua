-- Reserves the next free send time of the shared schedule (GCRA, "virtual scheduling") at the
-- rate the plan grants now, and notes the send time among the recent grants.
-- KEYS: the schedule (hash: tat = next free send time in Redis µs, generation = voids so far,
--       spaced_until and space_gap = the sends spaced out after three 429s close together,
--       and the rate plan of src/acronis/rate-estimator.ts: rate, climb_from, probe_top,
--       probe_slope, found, hold_ms, settled_at, epoch), the recent grants (sorted set of send times).
-- ARGV: the configured rate and the ceiling (requests/s, less the margin), the fast climb
--       (requests/s per second), how long the keys outlive the schedule when nobody sends (ms),
--       the hold before a first climb toward a higher ceiling (ms), and how many free send times to
--       take out of the schedule instead of granting one (0: grant; requests that reached the wire
--       late: RequestBudget.sent).
-- Returns {µs to wait before sending, the schedule's generation, Redis' now in µs}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ceiling = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'climb_from', 'probe_top', 'probe_slope', 'generation',
  'spaced_until', 'space_gap')
local rate = tonumber(s[2])
local climbFrom = tonumber(s[3])
local probeTop = tonumber(s[4]) or 0
local probeSlope = tonumber(s[5]) or 0
if not rate or not climbFrom then
  -- No plan yet (or one an older version left): the configured rate, see rate-estimator.ts initialPlan.
  rate = tonumber(ARGV[1])
  climbFrom = now + tonumber(ARGV[5]) * 1000
  probeTop, probeSlope = 0, 0
  redis.call('HSET', KEYS[1], 'rate', string.format('%.6f', rate), 'climb_from', string.format('%.0f', climbFrom),
    'probe_top', 0, 'probe_slope', 0, 'found', 0, 'hold_ms', ARGV[5], 'settled_at', 0, 'epoch', 0)
end
-- The same as rateAt in rate-estimator.ts: hold, then slowly up to probe_top, then fast up to the ceiling.
rate = math.min(rate, ceiling)
if now > climbFrom and rate < ceiling then
  local seconds = (now - climbFrom) / 1000000
  if rate < probeTop and probeSlope > 0 then
    local slow = (probeTop - rate) / probeSlope
    if seconds <= slow then
      rate = rate + probeSlope * seconds
      seconds = 0
    else
      rate = probeTop
      seconds = seconds - slow
    end
  end
  rate = math.min(ceiling, rate + tonumber(ARGV[3]) * seconds)
end
local sendAt = math.max(tonumber(s[1]) or 0, now)
local interval = 1000000 / rate
-- After three 429s close together the next few sends are spaced out (request-budget-space.lua).
if sendAt <= (tonumber(s[7]) or 0) then interval = math.max(interval, tonumber(s[8]) or 0) end
local skip = tonumber(ARGV[6]) or 0
local nextFree = sendAt + interval * math.max(1, skip)
-- Lua 5.1 prints a 16-digit number in exponent form, losing µs: format it as an integer.
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', nextFree))
local expiry = math.ceil((nextFree - now) / 1000) + tonumber(ARGV[4])
redis.call('PEXPIRE', KEYS[1], expiry)
-- The grants of the last 2 s: what a 429 is judged against (request-budget-refusal.lua).
if skip == 0 then redis.call('ZADD', KEYS[2], sendAt, string.format('%.0f', sendAt)) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now - 2000000))
redis.call('PEXPIRE', KEYS[2], expiry)
return {sendAt - now, tonumber(s[6]) or 0, now}
