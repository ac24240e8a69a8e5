-- Moves a customer to a new state and shifts one unit of its batch's counts from the old
-- state to the new one, in one step, so counts stay exact when BullMQ runs a step twice; the
-- batch's index and step sums follow (onboarding-index.lua), and a move that leaves the batch
-- with nothing queued or running stamps its end.
-- KEYS: customer hash.
-- ARGV: batch key prefix (the batch id is read from the customer), customers zset suffix,
--       index suffix, now (ISO), target state, allowed states (comma list, '*' = any), the run
--       the move is for ('' = whichever run holds the record), then field/value pairs to set
--       ('' deletes the field).
-- Returns false when the customer is unknown, else {old state, 1 if moved else 0, batch id,
-- customers of that batch still queued or running (-1 when not moved), 1 if not moved because
-- the record belongs to another run}. A step's job moves only its own chain's record: the job of
-- a new chain can start before its producer claimed the record, which still holds the failed
-- chain it replaces, in that chain's batch.
local customerKey = KEYS[1]
local idx = { prefix = ARGV[1], customers = ARGV[2], index = ARGV[3] }
local now, target, allowed, runId = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local FIELDS = 8
local old = redis.call('HGET', customerKey, 'state')
if not old then return false end
local batchId = redis.call('HGET', customerKey, 'batchId') or ''
if runId ~= '' and redis.call('HGET', customerKey, 'runId') ~= runId then return {old, 0, batchId, -1, 1} end
if allowed ~= '*' and not string.find(',' .. allowed .. ',', ',' .. old .. ',', 1, true) then
  return {old, 0, batchId, -1}
end
local before = snapshot(customerKey)
for i = FIELDS, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', customerKey, ARGV[i])
  else
    redis.call('HSET', customerKey, ARGV[i], ARGV[i + 1])
  end
end
if old ~= target then
  redis.call('HSET', customerKey, 'state', target)
  if batchId ~= '' then
    local batchKey = idx.prefix .. batchId
    redis.call('HINCRBY', batchKey, old, -1)
    redis.call('HINCRBY', batchKey, target, 1)
  end
end
local key = redis.call('HGET', customerKey, 'key')
if key then reindex(idx, key, before, snapshot(customerKey)) end
local remaining = -1
if batchId ~= '' then
  local batchKey = idx.prefix .. batchId
  local counts = redis.call('HMGET', batchKey, 'queued', 'running')
  remaining = (tonumber(counts[1]) or 0) + (tonumber(counts[2]) or 0)
  if remaining == 0 and old ~= target then redis.call('HSET', batchKey, 'endedAt', now) end
end
return {old, 1, batchId, remaining}
