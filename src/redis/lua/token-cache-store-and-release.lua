-- Stores a freshly issued token (sealed) and releases the issue lock if it is still ours.
-- KEYS: token hash, issue lock. ARGV: sealed, fingerprint, expiresAt, refreshAt, ttl ms, owner.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'sealed', ARGV[1], 'fp', ARGV[2], 'exp', ARGV[3], 'refresh', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if redis.call('GET', KEYS[2]) == ARGV[6] then redis.call('DEL', KEYS[2]) end
return 1
