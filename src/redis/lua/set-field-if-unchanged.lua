-- A compare-and-set of one hash field: a writer that read a value, changed it and writes it
-- back never undoes what another writer set meanwhile (reseal beside a running step).
-- KEYS: the hash. ARGV: field, the value read, the new value.
-- Returns 1 when set, 0 when the field no longer holds the value read (or the hash is gone).
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
