-- A 429 came back: notes it, and returns what src/acronis/rate-estimator.ts judges it on.
-- KEYS: the schedule, the recent grants, the recent refusals (sorted set of the refused requests'
--       send times, or answer times where the caller did not know when it sent).
-- ARGV: how long the keys outlive the schedule when nobody sends (ms), a unique id of this 429,
--       the refused request's send time in µs on this clock ('' when unknown).
-- Returns {Redis' now in µs as a string, grants of the last 2 s, refusals of the last 2 s,
--          the plan's fields: rate, climb_from, found, probe_top, probe_slope, hold_ms, settled_at, epoch}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowText = string.format('%.0f', now)
local since = string.format('%.0f', now - 2000000)
-- A send time from the future (another clock) or too old to matter counts as now.
local sent = tonumber(ARGV[3])
if sent == nil or sent > now or sent < now - 2000000 then sent = now end
-- Two 429s at the same µs are two members.
redis.call('ZADD', KEYS[3], sent, string.format('%.0f', sent) .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', since)
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[1]))
return {
  nowText,
  redis.call('ZRANGEBYSCORE', KEYS[2], since, nowText, 'WITHSCORES'),
  redis.call('ZRANGEBYSCORE', KEYS[3], since, nowText, 'WITHSCORES'),
  redis.call('HMGET', KEYS[1], 'rate', 'climb_from', 'found', 'probe_top', 'probe_slope', 'hold_ms', 'settled_at', 'epoch'),
}
