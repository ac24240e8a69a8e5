-- Gives back a failed request's claim: only keys still holding our pending record are deleted.
-- KEYS: as for the claim. ARGV: keys in use, our pending record.
for i = 1, tonumber(ARGV[1]) do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
return 1
