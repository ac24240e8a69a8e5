-- Claims a customer for a new chain in a batch. Outcomes:
--   queued             no record yet: created
--   replaced           the last chain failed: the record now belongs to this batch, afresh
--   already-onboarded  done: nothing to do
--   already-queued     queued or running: the chain in flight carries on
--   needs-job          the caller added no job, but the customer now needs one (no record, or
--                      failed since the caller looked): nothing changed; add the job, claim again
-- The batch's index, search texts and step sums follow (onboarding-index.lua), and those of the batch
-- a replaced customer leaves.
-- KEYS: customer hash, batch hash, batch customers (zset), batch outcomes (hash), batch search texts (hash).
-- ARGV: batch key prefix, customers zset suffix, index suffix, batch id, customer key, its search text,
--       position, now, run id, '1' if the caller added the chain's first job, then field/value pairs.
local customerKey, batchKey, customersKey, outcomesKey, searchKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local idx = { prefix = ARGV[1], customers = ARGV[2], index = ARGV[3] }
local batchId, key, searchText, position, now, runId, hasJob = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9], ARGV[10]
local FIELDS = 11
local old = redis.call('HGET', customerKey, 'state')
if old and redis.call('HGET', customerKey, 'runId') == runId then
  -- The same chain claimed twice (the producer and, after a crash, its first worker): nothing changes.
  return 'queued'
end
local outcome
if not old then
  outcome = 'queued'
elseif old == 'failed' then
  outcome = 'replaced'
elseif old == 'done' then
  outcome = 'already-onboarded'
else
  outcome = 'already-queued'
end
if (outcome == 'queued' or outcome == 'replaced') and hasJob ~= '1' then return 'needs-job' end
local previous = snapshot(customerKey)
if outcome == 'replaced' then
  local oldBatchKey = idx.prefix .. previous.batchId
  redis.call('HINCRBY', oldBatchKey, 'failed', -1)
  redis.call('HINCRBY', oldBatchKey, 'moved', 1)
  leaveIndex(idx, previous.batchId, key, previous)
  if previous.batchId ~= batchId then markElsewhere(idx, previous.batchId, key, previous.partner) end
end
redis.call('ZADD', customersKey, 'NX', position, key)
redis.call('HSET', outcomesKey, key, outcome)
redis.call('HSET', searchKey, key, searchText)
redis.call('HINCRBY', batchKey, 'total', 1)
if outcome == 'queued' or outcome == 'replaced' then
  redis.call('DEL', customerKey)
  redis.call('HSET', customerKey, 'key', key, 'batchId', batchId, 'runId', runId, 'state', 'queued', 'queuedAt', now, 'updatedAt', now)
  for i = FIELDS, #ARGV, 2 do redis.call('HSET', customerKey, ARGV[i], ARGV[i + 1]) end
  redis.call('HINCRBY', batchKey, 'queued', 1)
  joinIndex(idx, batchId, key, snapshot(customerKey))
else
  redis.call('HINCRBY', batchKey, 'skipped', 1)
  if previous.batchId ~= batchId then markElsewhere(idx, batchId, key, previous.partner) end
end
return outcome
