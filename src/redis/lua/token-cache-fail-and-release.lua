-- Publishes a failed issue, then releases the lock: a waiter that sees the lock gone also sees why.
-- KEYS: issue lock, failure marker. ARGV: owner, serialised error, marker ttl (ms).
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
