-- Counts the time paused after a 429: only the part of the new pause that no earlier pause
-- covers, so several workers answering the same burst of 429s count it once.
-- KEYS: metrics counters hash, paused-until key. ARGV: the pause in force (ms), counter field.
-- Returns the milliseconds added.
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = nowMs + tonumber(ARGV[1])
local covered = math.max(nowMs, tonumber(redis.call('GET', KEYS[2]) or '0'))
if untilMs <= covered then return 0 end
redis.call('SET', KEYS[2], string.format('%d', untilMs), 'PXAT', string.format('%d', untilMs))
redis.call('HINCRBYFLOAT', KEYS[1], ARGV[2], string.format('%.3f', (untilMs - covered) / 1000))
return untilMs - covered
