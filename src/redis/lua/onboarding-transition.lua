-- Moves a customer to a new state and shifts one unit of its batch's counts from the old
-- state to the new one, in one step, so counts stay exact when BullMQ runs a step twice.
-- KEYS: customer hash.
-- ARGV: batch key prefix (the batch id is read from the customer), target state, allowed
--       states (comma list, '*' = any), then field/value pairs to set ('' deletes the field).
-- Returns false when the customer is unknown, else {old state, 1 if moved else 0, batch id,
-- customers of that batch still queued or running (-1 when not moved)}.
local customerKey = KEYS[1]
local batchPrefix = ARGV[1]
local target = ARGV[2]
local allowed = ARGV[3]
local old = redis.call('HGET', customerKey, 'state')
if not old then return false end
local batchId = redis.call('HGET', customerKey, 'batchId') or ''
if allowed ~= '*' and not string.find(',' .. allowed .. ',', ',' .. old .. ',', 1, true) then
  return {old, 0, batchId, -1}
end
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', customerKey, ARGV[i])
  else
    redis.call('HSET', customerKey, ARGV[i], ARGV[i + 1])
  end
end
if old ~= target then
  redis.call('HSET', customerKey, 'state', target)
  if batchId ~= '' then
    local batchKey = batchPrefix .. batchId
    redis.call('HINCRBY', batchKey, old, -1)
    redis.call('HINCRBY', batchKey, target, 1)
  end
end
local remaining = -1
if batchId ~= '' then
  local counts = redis.call('HMGET', batchPrefix .. batchId, 'queued', 'running')
  remaining = (tonumber(counts[1]) or 0) + (tonumber(counts[2]) or 0)
end
return {old, 1, batchId, remaining}
