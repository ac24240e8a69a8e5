-- Reserves the next free send time of the shared schedule (GCRA, "virtual scheduling").
-- KEYS: the schedule (hash: tat = next free send time in Redis µs, rate = requests/s now,
--       rate_at = when rate was last brought up to date, generation = pauses so far, cut_at).
-- ARGV: the configured rate (requests/s), the climb back after a cut (requests/s per second),
--       how long the key outlives the schedule when nobody sends (ms).
-- Returns {µs to wait before sending, the schedule's generation, Redis' now in µs}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local climb = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'rate_at', 'generation')
local tat = tonumber(s[1]) or 0
local rate = math.min(limit, tonumber(s[2]) or limit)
local rateAt = tonumber(s[3]) or now
-- After a 429 cut the rate climbs back linearly to the configured one.
if rate < limit then rate = math.min(limit, rate + climb * math.max(0, now - rateAt) / 1000000) end
local sendAt = math.max(tat, now)
local nextFree = sendAt + 1000000 / rate
-- Lua 5.1 prints a 16-digit number in exponent form, losing µs: format it as an integer.
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', nextFree), 'rate', string.format('%.6f', rate),
  'rate_at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((nextFree - now) / 1000) + tonumber(ARGV[3]))
return {sendAt - now, tonumber(s[4]) or 0, now}
