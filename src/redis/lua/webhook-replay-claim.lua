-- Claims a webhook request's replay keys, or returns the record that got there first.
-- KEYS: signed-content key, delivery-id key (the signed key again when there is no delivery id).
-- ARGV: keys in use (1 or 2), the pending record, its ttl (ms), the signed key's ttl once done (s),
-- the body's hash.
-- The delivery id is not signed, so nothing found under the signed content is ever written under
-- it (that would let a replay with a new id take that id away from the sender's next delivery).
-- Returns false once claimed, else {'signed', record} for signed content seen before, or
-- {'delivery', record} for a delivery id seen before; a done record of the same body teaches the
-- signed key, so the re-signed copy is known as the same request too.
local signed = redis.call('GET', KEYS[1])
if signed then return {'signed', signed} end
local n = tonumber(ARGV[1])
if n == 2 then
  local delivery = redis.call('GET', KEYS[2])
  if delivery then
    local record = cjson.decode(delivery)
    if record.state == 'done' and record.body == ARGV[5] then
      redis.call('SET', KEYS[1], delivery, 'EX', ARGV[4], 'NX')
    end
    return {'delivery', delivery}
  end
end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3]) end
return false
