-- The token cache's one round trip per poll: the cached token while it is fresh, else a
-- failure another caller published, else who holds the issue lock, else the lock for us.
-- Atomic, so "the cache is stale, so I take the lock" cannot be split by another caller.
-- KEYS: token hash, issue lock, failure marker of the owner last waited on.
-- ARGV: now (epoch ms), our owner id, lock ttl (ms).
local t = redis.call('HMGET', KEYS[1], 'sealed', 'fp', 'exp', 'refresh')
if t[1] and t[2] and t[3] and t[4] and tonumber(ARGV[1]) < tonumber(t[4]) then
  return {'token', t[1], t[2], t[3], t[4]}
end
local failure = redis.call('GET', KEYS[3])
if failure then return {'failed', failure} end
local owner = redis.call('GET', KEYS[2])
if owner then return {'locked', owner} end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {'acquired'}
