"""The Lua of the worker's hot path (fetch, release, recover, discard) and the fetch's prepacked frames.

Each script's comment lists its KEYS and ARGV; :mod:`resque_impl.store.fetch` sends them.
"""

from __future__ import annotations

import functools
import hashlib

from resque_impl.codec import RAW_PAYLOAD_KEEP
from resque_impl.store.base import resp, resp_bulk
from resque_impl.store.working_on import LUA_JSON

__all__ = [
    "ADOPT",
    "DISCARD",
    "EVALSHA_FETCH",
    "FCALL_FETCH",
    "FETCH",
    "FETCH_FUNCTION",
    "FETCH_SHA",
    "LOAD_FETCH",
    "LOAD_FETCH_FUNCTION",
    "RECOVER",
    "RELEASE",
    "encode_queue_set",
]


@functools.lru_cache(maxsize=64)  # a wildcard worker sends the same set on every fetch until it changes
def encode_queue_set(names: tuple[str, ...]) -> bytes:
    """A ``queues`` set as the fetch script reads it: a ``1`` (so an empty set is not "no check"), then
    each member prefixed by its length in bytes and a colon (so no name can pass for two)."""
    return b"1" + b"".join(b"%d:%b" % (len(member), member) for member in map(str.encode, names))


# KEYS: 1 worker:<id>, 2 inflight:<id> (set), 3 stat:processed, 4 stat:processed:<id>, 5 stat:failed,
#       6 stat:failed:<id>, 7 inflight:recoveries, 8 pause-all-workers, 9 queues, 10 in-flight list of
#       the acked job, then a (queue list, in-flight list) pair per queue to try, in priority order.
# ARGV: 1 "1" = acknowledge, 2 its queue, 3 its payload, 4 "1" = it failed, 5 "1" = reliable,
#       6 "1" = reserve, 7 run_at, 8 largest payload taken whole (0 = any), 9 the queues set the queue
#       list was expanded from, as encode_queue_set writes it ("" = a list without wildcards, no check),
#       then one queue name per pair.
FETCH = (
    LUA_JSON
    + """
local reliable = ARGV[5] == '1'
local limit = tonumber(ARGV[8])
"""
    + f"local keep = {RAW_PAYLOAD_KEEP}"
    + """
-- the acked queue's in-flight list may now be empty; whether to drop the queue from the in-flight set
-- is settled once the next job is known (a job from the same queue keeps it there)
local acked = ARGV[1] == '1' and reliable
local function settle_acked()
  if acked and redis.call('EXISTS', KEYS[10]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
end
if ARGV[1] == '1' then
  if reliable then
    redis.call('LREM', KEYS[10], -1, ARGV[3])
    redis.call('HDEL', KEYS[7], ARGV[3])
  end
  redis.call('INCRBY', KEYS[3], 1)
  redis.call('INCRBY', KEYS[4], 1)
  if ARGV[4] == '1' then
    redis.call('INCRBY', KEYS[5], 1)
    redis.call('INCRBY', KEYS[6], 1)
  end
end
if ARGV[6] ~= '1' then
  settle_acked()
  redis.call('DEL', KEYS[1])
  return {'acked'}
end
local pause = redis.call('GET', KEYS[8])
if pause and string.lower(string.match(pause, '^%s*(.-)%s*$')) == 'true' then
  settle_acked()
  redis.call('DEL', KEYS[1])
  return {'paused'}
end
if ARGV[9] ~= '' then
  -- compared as sets: Lua orders strings by the server's locale (strcoll), not bytewise
  local known, given, count, at = ARGV[9], {}, 0, 2
  while at <= #known do
    local colon = string.find(known, ':', at, true)
    local size = tonumber(string.sub(known, at, colon - 1))
    given[string.sub(known, colon + 1, colon + size)] = true
    count = count + 1
    at = colon + size + 1
  end
  local members = redis.call('SMEMBERS', KEYS[9])
  local same = #members == count
  for _, member in ipairs(members) do same = same and given[member] == true end
  if not same then
    settle_acked()
    redis.call('DEL', KEYS[1])
    table.insert(members, 1, 'stale')
    return members
  end
end
for i = 11, #KEYS, 2 do
  local payload = redis.call('LPOP', KEYS[i])
  if payload then
    local queue = ARGV[10 + (i - 11) / 2]
    local size = #payload
    if limit > 0 and size > limit then
      payload = string.sub(payload, 1, keep)
    else
      size = 0
    end
    if reliable then
      redis.call('RPUSH', KEYS[i + 1], payload)
      if not (acked and queue == ARGV[2]) then
        settle_acked()
        redis.call('SADD', KEYS[2], queue)
      end
    end
    redis.call('SET', KEYS[1], '{"queue":' .. json_string(queue) .. ',"run_at":"' .. ARGV[7] ..
      '","payload":' .. payload_json(payload) .. '}')
    return {'job', queue, payload, size}
  end
end
settle_acked()
redis.call('DEL', KEYS[1])
return {'empty'}
"""
)

FETCH_SHA = hashlib.sha1(FETCH.encode(), usedforsecurity=False).hexdigest()
LOAD_FETCH = resp("SCRIPT", "LOAD", FETCH)
#: The same body as a Redis function (``FUNCTION LOAD`` once, then ``FCALL``: no compile per call), for stores
#: made with ``fetch_function=True``. Library and function are named by the script's hash, so that different
#: versions of this package sharing a server each call their own body.
FETCH_FUNCTION = f"resque_fetch_{FETCH_SHA[:16]}"
LOAD_FETCH_FUNCTION = resp(
    "FUNCTION",
    "LOAD",
    "REPLACE",
    f"#!lua name=resque_impl_{FETCH_SHA[:16]}\n"
    f"redis.register_function('{FETCH_FUNCTION}', function(KEYS, ARGV)\n{FETCH}\nend)",
)
EVALSHA_FETCH = resp_bulk("EVALSHA") + resp_bulk(FETCH_SHA)
FCALL_FETCH = resp_bulk("FCALL") + resp_bulk(FETCH_FUNCTION)

# KEYS: 1 worker:<id>, 2 inflight:<id>, 3 queues, 4 the queue list, 5 its in-flight list.
# ARGV: 1 queue, 2 payload, 3 "1" = reliable, 4 notify channel.
RELEASE = """
if ARGV[3] == '1' then
  redis.call('LREM', KEYS[5], -1, ARGV[2])
  if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('LPUSH', KEYS[4], ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
"""

# KEYS: 1 worker:<id>, 2 inflight:<id>, 3 queues, then a (queue list, in-flight list) pair per queue the
#       worker may hold jobs from, in the order to look in.
# ARGV: 1 run_at, 2 notify channel, then one queue name per pair.
# Returns {} or {queue, payload} of the job taken back: the oldest of the first non-empty list, which
# stays in flight; every other one goes back to the head of its queue, in order.
ADOPT = (
    LUA_JSON
    + """
local adopted = nil
for i = 4, #KEYS, 2 do
  local queue = ARGV[3 + (i - 4) / 2]
  local items = redis.call('LRANGE', KEYS[i + 1], 0, -1)
  local first = 1
  if adopted == nil and #items > 0 then
    adopted = {queue, items[1]}
    first = 2
  end
  for j = #items, first, -1 do redis.call('LPUSH', KEYS[i], items[j]) end
  if #items >= first then
    redis.call('SADD', KEYS[3], queue)
    redis.call('PUBLISH', ARGV[2], queue)
  end
  if first == 2 then
    redis.call('LTRIM', KEYS[i + 1], 0, 0)
  else
    redis.call('DEL', KEYS[i + 1])
    redis.call('SREM', KEYS[2], queue)
  end
end
if adopted == nil then return {} end
redis.call('SET', KEYS[1], '{"queue":' .. json_string(adopted[1]) .. ',"run_at":"' .. ARGV[1] ..
  '","payload":' .. payload_json(adopted[2]) .. '}')
return adopted
"""
)

# KEYS: 1 inflight:recoveries, 2 inflight:<id>, 3 queues, then a (queue list, in-flight list) pair per
#       queue the worker may hold jobs from.
# ARGV: 1 max recoveries, 2 notify channel, then one queue name per pair.
# Returns {recovered count, queue, payload, queue, payload, ...} for the poison jobs left in place.
RECOVER = """
local unpack = unpack or table.unpack
local limit = tonumber(ARGV[1])
local result = {0}
for i = 4, #KEYS, 2 do
  local queue = ARGV[3 + (i - 4) / 2]
  local items = redis.call('LRANGE', KEYS[i + 1], 0, -1)
  local keep = {}
  local pushed = false
  for j = #items, 1, -1 do
    if redis.call('HINCRBY', KEYS[1], items[j], 1) <= limit then
      redis.call('LPUSH', KEYS[i], items[j])
      pushed = true
      result[1] = result[1] + 1
    else
      table.insert(keep, 1, items[j])
    end
  end
  redis.call('DEL', KEYS[i + 1])
  if #keep > 0 then
    redis.call('RPUSH', KEYS[i + 1], unpack(keep))
    for _, payload in ipairs(keep) do
      table.insert(result, queue)
      table.insert(result, payload)
    end
  else
    redis.call('SREM', KEYS[2], queue)
  end
  if pushed then
    redis.call('SADD', KEYS[3], queue)
    redis.call('PUBLISH', ARGV[2], queue)
  end
end
return result
"""

# KEYS: 1 in-flight list, 2 inflight:<id>, 3 inflight:recoveries. ARGV: 1 queue, 2 payload.
DISCARD = """
local removed = redis.call('LREM', KEYS[1], 1, ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('HDEL', KEYS[3], ARGV[2])
return removed
"""
