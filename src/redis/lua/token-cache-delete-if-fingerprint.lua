-- After a 401: deletes the cached token only if it is the one that failed.
-- KEYS: token hash. ARGV: fingerprint.
if redis.call('HGET', KEYS[1], 'fp') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
