-- Records a source's event once: a vendor's retry of the same event id finds it and changes nothing.
-- KEYS: the event's hash, the source's events zset (by arrival), the source's outcome counts.
-- ARGV: arrival (ms), ttl (s), events kept in the zset, then field/value pairs of the record.
-- Returns 'new', or the outcome the event has already ('received' while its intake job has not settled it).
local outcome = redis.call('HGET', KEYS[1], 'outcome')
if outcome then return outcome end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'outcome', 'received', 'receivedAt', ARGV[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
redis.call('HINCRBY', KEYS[3], 'received', 1)
local keep = tonumber(ARGV[3])
local size = redis.call('ZCARD', KEYS[2])
if size > keep then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, size - keep - 1) end
return 'new'
