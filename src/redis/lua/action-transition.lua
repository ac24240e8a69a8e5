-- Moves one lifecycle action from one of the allowed states to another, with its fields, so two
-- writers (an offboard's delete and its cancel) never both win.
-- KEYS: the action's record. ARGV: allowed states (comma-separated, or *), the new state, then
-- field/value pairs (an empty value removes the field).
-- Returns {previous state or '', 1 when moved else 0}.
local current = redis.call('HGET', KEYS[1], 'state')
if not current then return { '', 0 } end
if ARGV[1] ~= '*' then
  local allowed = false
  for name in string.gmatch(ARGV[1], '[^,]+') do
    if name == current then allowed = true end
  end
  if not allowed then return { current, 0 } end
end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return { current, 1 }
