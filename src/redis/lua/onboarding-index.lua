-- Shared by the onboarding scripts (src/redis/scripts.ts puts it before each of them): the
-- index of a batch's customers by what the batch page filters on, kept by the same script that
-- changes a customer, so a page of 50 reads 50 records whatever the batch's size.
--   <batch><index suffix><view>  zset per view, scored by the customer's position in the batch.
--     Of a customer whose record belongs to the batch: its state (queued, running, done,
--     failed), and 'unconfirmed' (done, activation e-mail unconfirmed) and 'needs-change'
--     (failed on a conflict only a change resolves). Of one whose record is in another batch
--     (submitted while onboarded or queued there, or failed here and resubmitted): 'elsewhere'.
--   <batch><index suffix><view>@<partner>  the same per partner, for a record with a `partner`
--     (an install with several, docs/partners.md), and <batch><index suffix>all@<partner>, the
--     batch's customers of that partner (kept like the customers zset: joined, never left), so a
--     partner's view of a batch reads like any other. A customer's partner never changes.
--   stepsDone, stepsPlanned in the batch hash: the steps its customers have run and have to run,
--     for its progress and pace (a done or failed customer counts all of its steps).
-- `idx` is {prefix = batch key prefix, customers = customers zset suffix, index = index suffix},
-- each from src/redis/keys.ts.

local function stepCount(steps)
  local n = 0
  for _ in string.gmatch(steps or '', '[^,]+') do n = n + 1 end
  return n
end

-- The step's place in the chain (0 for the first, or when it has none yet).
local function stepPlace(steps, step)
  local i = 0
  for s in string.gmatch(steps or '', '[^,]+') do
    if s == step then return i end
    i = i + 1
  end
  return 0
end

-- What of a customer's record the index depends on.
local function snapshot(customerKey)
  local f = redis.call('HMGET', customerKey, 'state', 'batchId', 'step', 'steps', 'facts', 'needsChange', 'finishedAt', 'partner')
  return {
    state = f[1], batchId = f[2], step = f[3], steps = f[4], facts = f[5], needsChange = f[6], finishedAt = f[7],
    partner = f[8],
  }
end

local function emailUnconfirmed(facts)
  if not facts then return false end
  local ok, decoded = pcall(cjson.decode, facts)
  return ok and type(decoded) == 'table' and decoded.activation == 'email-unconfirmed'
end

local function viewsOf(s)
  if not s.state then return {} end
  local views = { s.state }
  if s.state == 'done' and emailUnconfirmed(s.facts) then views[#views + 1] = 'unconfirmed' end
  if s.state == 'failed' and s.needsChange then views[#views + 1] = 'needs-change' end
  return views
end

local function stepsDoneOf(s)
  if s.state == 'done' or s.state == 'failed' then return stepCount(s.steps) end
  return stepPlace(s.steps, s.step)
end

-- Takes the record (as it was) out of its batch's index and step sums. (0 - n, not -n: Lua
-- writes -0 as "-0", which HINCRBY refuses.)
local function leaveIndex(idx, batchId, key, s)
  local batchKey = idx.prefix .. batchId
  for _, view in ipairs(viewsOf(s)) do
    redis.call('ZREM', batchKey .. idx.index .. view, key)
    if s.partner then redis.call('ZREM', batchKey .. idx.index .. view .. '@' .. s.partner, key) end
  end
  if s.state then
    redis.call('HINCRBY', batchKey, 'stepsDone', 0 - stepsDoneOf(s))
    redis.call('HINCRBY', batchKey, 'stepsPlanned', 0 - stepCount(s.steps))
  end
end

-- Puts the record (as it is now) into its batch's index and step sums.
local function joinIndex(idx, batchId, key, s)
  local batchKey = idx.prefix .. batchId
  local position = redis.call('ZSCORE', batchKey .. idx.customers, key) or 0
  for _, view in ipairs(viewsOf(s)) do
    redis.call('ZADD', batchKey .. idx.index .. view, position, key)
    if s.partner then redis.call('ZADD', batchKey .. idx.index .. view .. '@' .. s.partner, position, key) end
  end
  if s.partner then redis.call('ZADD', batchKey .. idx.index .. 'all@' .. s.partner, position, key) end
  if s.state then
    redis.call('HINCRBY', batchKey, 'stepsDone', stepsDoneOf(s))
    redis.call('HINCRBY', batchKey, 'stepsPlanned', stepCount(s.steps))
  end
end

-- A customer listed in `batchId` whose record (of `partner`, if any) now belongs to another batch.
local function markElsewhere(idx, batchId, key, partner)
  local batchKey = idx.prefix .. batchId
  local position = redis.call('ZSCORE', batchKey .. idx.customers, key) or 0
  redis.call('ZADD', batchKey .. idx.index .. 'elsewhere', position, key)
  if partner then
    redis.call('ZADD', batchKey .. idx.index .. 'elsewhere@' .. partner, position, key)
    redis.call('ZADD', batchKey .. idx.index .. 'all@' .. partner, position, key)
  end
end

-- Re-indexes one record after a change made between two snapshots.
local function reindex(idx, key, before, after)
  if before.batchId and before.batchId ~= '' then leaveIndex(idx, before.batchId, key, before) end
  if after.batchId and after.batchId ~= '' then joinIndex(idx, after.batchId, key, after) end
end

