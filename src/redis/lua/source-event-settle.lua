-- Gives an event its outcome, once: an intake job that runs again after settling it changes nothing.
-- KEYS: the event's hash, the source's outcome counts. ARGV: the outcome, then field/value pairs.
-- Returns 1 when settled now, 0 when it had an outcome already (or is gone).
local outcome = redis.call('HGET', KEYS[1], 'outcome')
if outcome ~= 'received' then return 0 end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'outcome', ARGV[1], unpack(fields))
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return 1
