-- Builds a batch's index, search texts and step sums (onboarding-index.lua) from its customers'
-- records, once, for a batch made before the index existed; then marks it indexed. One script,
-- so no transition lands half-way through. (Lua lower-cases ASCII only: such a batch's search
-- matches other letters in their case.)
-- KEYS: batch hash, batch customers (zset), batch search texts (hash).
-- ARGV: batch key prefix, customers zset suffix, index suffix, batch id, customer key prefix,
--       index version, then every view name.
local batchKey, customersKey, searchKey = KEYS[1], KEYS[2], KEYS[3]
local idx = { prefix = ARGV[1], customers = ARGV[2], index = ARGV[3] }
local batchId, customerPrefix, version = ARGV[4], ARGV[5], ARGV[6]
for i = 7, #ARGV do redis.call('DEL', batchKey .. idx.index .. ARGV[i]) end
redis.call('DEL', searchKey)
redis.call('HSET', batchKey, 'stepsDone', 0, 'stepsPlanned', 0)
local lastFinished = ''
local members = redis.call('ZRANGE', customersKey, 0, -1)
for _, key in ipairs(members) do
  local customerKey = customerPrefix .. key
  local name = redis.call('HGET', customerKey, 'name') or ''
  redis.call('HSET', searchKey, key, string.lower(key .. '\n' .. name))
  local s = snapshot(customerKey)
  if s.batchId == batchId then
    joinIndex(idx, batchId, key, s)
    if s.finishedAt and s.finishedAt > lastFinished then lastFinished = s.finishedAt end
  elseif s.state then
    markElsewhere(idx, batchId, key, s.partner)
  end
end
local counts = redis.call('HMGET', batchKey, 'queued', 'running', 'endedAt')
local remaining = (tonumber(counts[1]) or 0) + (tonumber(counts[2]) or 0)
if remaining == 0 and not counts[3] and lastFinished ~= '' then redis.call('HSET', batchKey, 'endedAt', lastFinished) end
redis.call('HSET', batchKey, 'indexVersion', version)
return #members
