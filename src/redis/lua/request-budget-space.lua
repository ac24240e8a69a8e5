-- Three 429s close together (src/acronis/rate-estimator.ts SPACE_OUT_MS): every slot reserved so
-- far is void (the generation grows, and is published), and the next sends leave `gap` apart, so
-- a fourth 429 is judged before a fifth request leaves. The rate plan is not touched.
-- KEYS: the schedule.
-- ARGV: the gap (µs), the channel the generation is published on, how long the key outlives the schedule (ms).
-- Returns the new generation.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local gap = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'paused_until', 'generation')
local pausedUntil = tonumber(s[1]) or 0
local generation = (tonumber(s[2]) or 0) + 1
-- Not sooner than `gap` (a 429 already on its way back is judged first), never inside a pause.
local restart = math.max(pausedUntil, now + gap)
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', restart), 'generation', generation,
  'spaced_until', string.format('%.0f', restart + 2 * gap), 'space_gap', string.format('%.0f', gap))
redis.call('PEXPIRE', KEYS[1], math.ceil((restart - now) / 1000) + tonumber(ARGV[3]))
redis.call('PUBLISH', ARGV[2], generation)
return generation
