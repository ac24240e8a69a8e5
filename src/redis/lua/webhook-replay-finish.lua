-- Marks the request done: each key still holding our pending record (or nothing) gets the done record.
-- KEYS: as for the claim. ARGV: keys in use, our pending record, the done record, ttls (s).
for i = 1, tonumber(ARGV[1]) do
  local value = redis.call('GET', KEYS[i])
  if not value or value == ARGV[2] then redis.call('SET', KEYS[i], ARGV[3], 'EX', ARGV[3 + i]) end
end
return 1
