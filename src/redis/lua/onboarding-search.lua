-- Finds a batch's customers by a piece of their external id or name, in position order, on the
-- server, so a search of 10,000 customers sends back one page, not 10,000 names.
-- KEYS: the listed customers (the batch's customers zset, or one of its index zsets), the
--       batch's search texts (hash: customer key -> lower-cased "key\nname").
-- ARGV: the text to find (lower-cased), offset, count.
-- Returns {customers matched, then the keys of the matches from offset, at most count}.
local needle, offset, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local texts = redis.call('HGETALL', KEYS[2])
local found = {}
for i = 1, #texts, 2 do
  if string.find(texts[i + 1], needle, 1, true) then found[#found + 1] = texts[i] end
end
-- Those listed, by position (ZMSCORE in slices: unpack has a stack limit).
local hits = {}
for from = 1, #found, 1000 do
  local slice = { unpack(found, from, math.min(from + 999, #found)) }
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(slice))
  for i, score in ipairs(slice) do
    if scores[i] then hits[#hits + 1] = { tonumber(scores[i]), slice[i] } end
  end
end
table.sort(hits, function(a, b) return a[1] < b[1] end)
local page = { #hits }
for i = offset + 1, math.min(offset + count, #hits) do page[#page + 1] = hits[i][2] end
return page
