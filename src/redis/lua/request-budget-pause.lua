-- Pauses the budget for ARGV[1] ms (already capped); never shortens a later pause.
-- KEYS: pause key. Returns the pause in force after the call, in ms.
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local remaining = math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - nowMs)
if ms <= remaining then return remaining end
-- PXAT at the stored instant, so the key vanishes exactly when TAKE stops treating it as a pause.
redis.call('SET', KEYS[1], string.format('%d', nowMs + ms), 'PXAT', string.format('%d', nowMs + ms))
return ms
