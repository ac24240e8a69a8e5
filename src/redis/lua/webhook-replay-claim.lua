-- Claims a webhook request's replay keys, or returns the record that got there first.
-- KEYS: signed-content key, delivery-id key (the signed key again when there is no delivery id).
-- ARGV: keys in use (1 or 2), the pending record, its ttl (ms), each key's ttl once done (s).
-- A done record anywhere wins (and is copied to a key that lacks it); else a pending one;
-- else every key is claimed with the pending record and false is returned.
local n = tonumber(ARGV[1])
local found
for i = 1, n do
  local value = redis.call('GET', KEYS[i])
  if value then
    if cjson.decode(value).state == 'done' then
      for j = 1, n do redis.call('SET', KEYS[j], value, 'EX', ARGV[3 + j], 'NX') end
      return value
    end
    found = found or value
  end
end
if found then return found end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3]) end
return false
