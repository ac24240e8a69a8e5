-- Extends a lease only for its holder: a holder that lost it (it expired while the process
-- stood still, and another took it) never extends someone else's.
-- KEYS: the lease. ARGV: the value its holder set, the new time to live (ms).
-- Returns 1 when extended, 0 when the lease is gone or held by another.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
