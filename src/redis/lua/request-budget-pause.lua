-- A 429 moves the shared schedule: no send before now + ARGV[1] ms (never earlier than a pause
-- already in force), every reservation made before it is void (the generation grows), and the
-- rate is cut by ARGV[2] unless it was cut within the last ARGV[4] ms (one cut per burst of 429s);
-- the rate it was cut from is remembered as the ceiling the climb back slows down near.
-- KEYS: the schedule (see request-budget-reserve.lua).
-- ARGV: pause ms (already capped), cut factor, lowest rate (requests/s), cut cooldown ms,
--       configured rate (requests/s), expiry margin ms.
-- Returns {pause in force in ms, generation, rate now as a string}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'generation', 'cut_at', 'paused_until')
local rate = math.min(limit, tonumber(s[2]) or limit)
local generation = (tonumber(s[3]) or 0) + 1
local cutAt = tonumber(s[4]) or 0
local pausedUntil = math.max(tonumber(s[5]) or 0, now + tonumber(ARGV[1]) * 1000)
local ceiling = tonumber(redis.call('HGET', KEYS[1], 'ceiling')) or limit
if now - cutAt >= tonumber(ARGV[4]) * 1000 then
  -- The rate met a limit here: the climb back slows down near it (request-budget-reserve.lua).
  ceiling = rate
  rate = math.max(tonumber(ARGV[3]), rate * tonumber(ARGV[2]))
  cutAt = now
end
-- The reservations before the pause are void, so the schedule restarts at its end.
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', pausedUntil), 'paused_until', string.format('%.0f', pausedUntil),
  'rate', string.format('%.6f', rate), 'rate_at', string.format('%.0f', now), 'generation', generation,
  'cut_at', string.format('%.0f', cutAt), 'ceiling', string.format('%.6f', ceiling))
redis.call('PEXPIRE', KEYS[1], math.ceil((pausedUntil - now) / 1000) + tonumber(ARGV[6]))
return {math.ceil((pausedUntil - now) / 1000), generation, string.format('%.6f', rate)}
