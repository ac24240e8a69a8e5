-- Ends a lease only for its holder, so a holder that lost it never ends the next one's.
-- KEYS: the lease. ARGV: the value its holder set. Returns 1 when ended, 0 otherwise.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
