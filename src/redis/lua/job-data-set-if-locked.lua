-- The write-ahead intent of a send that cannot be looked up afterwards (the activation e-mail),
-- written with the job's lock check in one step: it lands only while the run that will send still
-- holds the job, so no other run can read an intent whose send never went out, and nothing needs
-- checking between the write and the send. The lock is extended as BullMQ's extendLock does.
-- A copy of this call sent again after a reconnect (ioredis re-sends a command whose answer an
-- outage cut off) may find the lock gone and the data as the first copy left it: that run does
-- not send, so the intent goes, and the data is as it was before.
-- KEYS: the job's hash, its lock, the queue's stalled set (BullMQ's names).
-- ARGV: the run's lock token, the lock duration (ms), the job id, the data with the intent,
-- the data before it.
-- Returns 1 when written, 0 when the job's lock is not this run's (nothing of it left behind).
local rcall = redis.call
if rcall('GET', KEYS[2]) == ARGV[1] then
  rcall('HSET', KEYS[1], 'data', ARGV[4])
  rcall('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  rcall('SREM', KEYS[3], ARGV[3])
  return 1
end
if rcall('HGET', KEYS[1], 'data') == ARGV[4] then rcall('HSET', KEYS[1], 'data', ARGV[5]) end
return 0
