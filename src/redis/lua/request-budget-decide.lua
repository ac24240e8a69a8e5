-- Writes the plan a limit decision made (src/acronis/rate-estimator.ts judge), unless another
-- process decided first. A decision with a pause moves every process's schedule past it; one that
-- cuts the rate without a pause (a probe's) restarts the schedule now at the new rate. Either way
-- the slots reserved before it are void: the generation grows, and is published, so processes
-- asleep on such slots hear of it now rather than at their next reservation.
-- KEYS: the schedule.
-- ARGV: the epoch the decision was made from, then rate, climb_from, found, probe_top,
--       probe_slope, hold_ms, settled_at, pause (ms), how long the key outlives the schedule (ms),
--       the channel the generation is published on, '1' if the decision cuts the rate in force.
-- Returns {1 if written else 0, the pause in force in ms, generation}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = redis.call('HMGET', KEYS[1], 'epoch', 'paused_until', 'generation', 'tat')
local epoch = tonumber(s[1]) or 0
local pausedUntil = tonumber(s[2]) or 0
local generation = tonumber(s[3]) or 0
local written = 0
if epoch == tonumber(ARGV[1]) then
  written = 1
  redis.call('HSET', KEYS[1], 'epoch', epoch + 1, 'rate', ARGV[2], 'climb_from', ARGV[3], 'found', ARGV[4],
    'probe_top', ARGV[5], 'probe_slope', ARGV[6], 'hold_ms', ARGV[7], 'settled_at', ARGV[8])
  local pauseMs = tonumber(ARGV[9])
  if pauseMs > 0 then
    -- The reservations made before the pause are void (the generation grows): the schedule restarts at its end.
    pausedUntil = math.max(pausedUntil, now + pauseMs * 1000)
    generation = generation + 1
    redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', math.max(pausedUntil, tonumber(s[4]) or 0)),
      'paused_until', string.format('%.0f', pausedUntil), 'generation', generation)
    redis.call('PUBLISH', ARGV[11], generation)
  elseif ARGV[12] == '1' then
    -- The slots reserved ahead were spaced at the old rate, up to every process's reservations
    -- ahead of now: sent, they would keep the old pace into the API's full window for that long.
    generation = generation + 1
    local restart = math.max(pausedUntil, now + 1000000 / tonumber(ARGV[2]))
    redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', restart), 'generation', generation)
    redis.call('PUBLISH', ARGV[11], generation)
  end
end
redis.call('PEXPIRE', KEYS[1], math.max(0, math.ceil((pausedUntil - now) / 1000)) + tonumber(ARGV[10]))
return {written, math.max(0, math.ceil((pausedUntil - now) / 1000)), generation}
