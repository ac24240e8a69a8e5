-- One request slot of the shared budget, or how long to wait for one.
-- KEYS: grants (zset, score = grant time in Redis µs), pause ("paused until", epoch ms).
-- ARGV: window µs, max grants per window, member suffix, pacing fraction.
-- Returns {1, 0, 0} when a slot was taken, else {0, waitMs, 1 if paused else 0}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
-- Compared with TIME rather than read as PTTL, so "paused until" and a grant's score are on one clock.
local pausedUntil = tonumber(redis.call('GET', KEYS[2]) or '0') * 1000
if pausedUntil > now then return {0, math.ceil((pausedUntil - now) / 1000), 1} end
local count = redis.call('ZCARD', KEYS[1])
-- Grants are also spaced evenly (window / limit apart): a burst of a whole window's grants
-- at once would reach the server squeezed together by any delay on the way.
local spacing = window / limit * tonumber(ARGV[4])
if count > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local since = now - tonumber(newest[2])
  if since < spacing and count < limit then return {0, math.max(1, math.ceil((spacing - since) / 1000)), 0} end
end
if count < limit then
  -- Lua 5.1 prints a 16-digit number in exponent form, so the member is built from TIME's own digits.
  redis.call('ZADD', KEYS[1], now, string.format('%s%06d:%s', t[1], tonumber(t[2]), ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, 0, 0}
end
-- The grant whose expiry brings the count below the limit (index 0 unless processes disagree on the limit).
local blocking = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local waitMicros = tonumber(blocking[2]) + window - now
return {0, math.max(1, math.ceil(waitMicros / 1000)), 0}
