-- Reserves the next free send time of the shared schedule (GCRA, "virtual scheduling").
-- KEYS: the schedule (hash: tat = next free send time in Redis µs, rate = requests/s now,
--       rate_at = when rate was last brought up to date, ceiling = the rate a 429 last met,
--       generation = pauses so far; see also request-budget-pause.lua).
-- ARGV: the configured rate (requests/s), the fast and the slow climb (requests/s per second),
--       how long the key outlives the schedule when nobody sends (ms).
-- Returns {µs to wait before sending, the schedule's generation, Redis' now in µs}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'rate_at', 'generation', 'ceiling')
local tat = tonumber(s[1]) or 0
local rate = math.min(limit, tonumber(s[2]) or limit)
if rate < limit then
  -- After a cut: quickly back to just below the rate the 429 met, slowly around it, quickly past it.
  local ceiling = tonumber(s[5]) or limit
  local seconds = math.max(0, now - (tonumber(s[3]) or now)) / 1000000
  if rate < ceiling * 0.95 then
    rate = math.min(ceiling * 0.95, rate + tonumber(ARGV[2]) * seconds)
  elseif rate <= ceiling * 1.05 then
    rate = rate + tonumber(ARGV[3]) * seconds
  else
    rate = rate + tonumber(ARGV[2]) * seconds
  end
  rate = math.min(limit, rate)
end
local sendAt = math.max(tat, now)
local nextFree = sendAt + 1000000 / rate
-- Lua 5.1 prints a 16-digit number in exponent form, losing µs: format it as an integer.
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', nextFree), 'rate', string.format('%.6f', rate),
  'rate_at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((nextFree - now) / 1000) + tonumber(ARGV[4]))
return {sendAt - now, tonumber(s[4]) or 0, now}
