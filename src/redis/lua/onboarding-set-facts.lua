-- Writes a customer's facts and keeps its batch's index in step (an unconfirmed activation
-- e-mail is a view of its own: onboarding-index.lua). With a value read to compare, a
-- compare-and-set: a writer that read the facts, changed them and writes them back never
-- undoes what another writer set meanwhile (an operator's resend beside a running step).
-- KEYS: customer hash.
-- ARGV: batch key prefix, customers zset suffix, index suffix, the new facts (JSON),
--       '1' to compare, the facts read (when comparing).
-- Returns 1 when written, 0 when the facts no longer hold the value read (or the record is gone).
local customerKey = KEYS[1]
local idx = { prefix = ARGV[1], customers = ARGV[2], index = ARGV[3] }
if ARGV[5] == '1' and redis.call('HGET', customerKey, 'facts') ~= ARGV[6] then return 0 end
local before = snapshot(customerKey)
redis.call('HSET', customerKey, 'facts', ARGV[4])
local key = redis.call('HGET', customerKey, 'key')
if key then reindex(idx, key, before, snapshot(customerKey)) end
return 1
