-- Whose turn it is on one customer (docs/lifecycle.md "One action at a time"): its actions run
-- one after the other, in the order they were asked for, and none before its onboarding ended.
-- KEYS: the customer's onboarding record, the customer's line of actions.
-- ARGV: the action id, the prefix of action records (+ id = the record's key).
-- Returns {verdict, detail}: go; onboarding (still queued or running); onboarding-failed;
-- not-onboarded; behind (detail: the action ahead).
local FINAL = { done = true, failed = true, cancelled = true, deleted = true }
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-onboarded', '' } end
if state == 'failed' then return { 'onboarding-failed', '' } end
if not redis.call('LPOS', KEYS[2], ARGV[1]) then redis.call('RPUSH', KEYS[2], ARGV[1]) end
-- An action ended without giving its turn back (its record ended another way) stops nobody.
while true do
  local head = redis.call('LINDEX', KEYS[2], 0)
  if not head or head == ARGV[1] then break end
  local headState = redis.call('HGET', ARGV[2] .. head, 'state')
  if headState and not FINAL[headState] then break end
  redis.call('LPOP', KEYS[2])
end
if state ~= 'done' then return { 'onboarding', '' } end
local head = redis.call('LINDEX', KEYS[2], 0)
if head == ARGV[1] then return { 'go', '' } end
return { 'behind', head }
