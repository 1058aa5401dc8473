"""The worker's hot path: reserve and acknowledge jobs, reliably, in one round trip each.

:meth:`FetchCommands.fetch` is one Lua script that (1) acknowledges the job just finished, if any
(working-on record deleted, ``stat:processed`` and per-worker counters incremented, plus
``stat:failed`` when it failed), then (2) unless ``pause-all-workers`` is ``"true"``, pops the first
payload found in the queues in priority order and writes the worker's working-on record. So a busy
worker costs one round trip per job.

A worker with wildcard patterns expands them against the ``queues`` set, as Ruby does before every
reserve; instead of reading the set (``SMEMBERS``) in a round trip of its own each time, it sends the set
it last expanded from and the script compares it with the set as it is (:func:`_encode_queue_set`). While
they agree the queue list is the one Ruby would use; when they differ nothing is popped and the reply
carries the new set to expand again from. So the list a job is popped by always matches the set at that
moment, atomically (Ruby reads the set and pops in separate round trips), and wildcard workers too cost
one round trip per job.

*Reliable fetch* (an extension Ruby Resque ignores): the popped payload is also appended to a
per-worker in-flight list, :meth:`Keys.inflight` ``{resque:queue:<q>}:inflight:<worker id>`` (hash-tagged
into the queue's Redis Cluster slot), and the queue name added to the set :meth:`Keys.inflight_queues`.
Acknowledging removes both, so nothing of it is left after a clean finish. When a worker is found dead,
:meth:`FetchCommands.recover_inflight` pushes its in-flight payloads back to the head of their queues,
counting each in the hash :attr:`Keys.recoveries`; a payload recovered more than ``max_recoveries``
times is left in place and returned as a *poison* job, for the caller to record as a failure and then
:meth:`FetchCommands.discard_inflight`. Without reliable fetch the pop is Ruby's plain ``LPOP``.

The working-on record embeds the payload bytes as they were queued (bytes that do not even look like
a JSON object, ``{...}``, are embedded as a JSON string instead), exactly as
:func:`encode_working_on` builds it for :class:`~resque_impl.memory_store.MemoryStore`.

A payload larger than the worker's limit (``max_payload``, normally the producers' own limit) cannot be
a job this library wrote and would cost several full copies on every step; only its first
:data:`~resque_impl.codec.RAW_PAYLOAD_KEEP` bytes go on (into the in-flight list, the working-on record
and the reply), with its full size, for the worker to record it as a failure.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import redis

from resque_impl.codec import RAW_PAYLOAD_KEEP
from resque_impl.errors import DurabilityError, ResqueConnectionError
from resque_impl.store.base import Command, StoreBase, resp, resp_bulk

__all__ = ["Ack", "FetchCommands", "Fetched", "Subscription", "encode_working_on", "json_string"]


class Ack(NamedTuple):
    """A finished job to acknowledge: where it came from, its exact bytes, whether it failed."""

    queue: str
    payload: bytes
    failed: bool = False


class Fetched(NamedTuple):
    """What :meth:`FetchCommands.fetch` found.

    ``state`` is ``"job"`` (``queue`` and ``payload`` set), ``"empty"`` (every queue was empty),
    ``"paused"`` (``pause-all-workers`` is true, nothing popped), ``"acked"`` (only acknowledged) or
    ``"stale"`` (the ``queues`` set is no longer the one the queue list was expanded from: nothing
    popped, and ``queue_set`` is the set as it is now, sorted, to expand again from).
    ``oversized`` is the full size of a payload over the limit, of which ``payload`` is only the head.
    """

    state: str
    queue: str | None = None
    payload: bytes | None = None
    oversized: int | None = None
    queue_set: tuple[str, ...] | None = None


@functools.lru_cache(maxsize=64)  # a wildcard worker sends the same set on every fetch until it changes
def _encode_queue_set(names: tuple[str, ...]) -> bytes:
    """A ``queues`` set as the fetch script reads it: a ``1`` (so an empty set is not "no check"), then
    each member prefixed by its length in bytes and a colon (so no name can pass for two)."""
    return b"1" + b"".join(b"%d:%b" % (len(member), member) for member in map(str.encode, names))


_SHORT_ESCAPES = {
    ord('"'): b'\\"',
    ord("\\"): b"\\\\",
    ord("\b"): b"\\b",
    ord("\f"): b"\\f",
    ord("\n"): b"\\n",
    ord("\r"): b"\\r",
    ord("\t"): b"\\t",
}
_NEEDS_ESCAPE = re.compile(rb'[\x00-\x1f"\\]')


def _escape(match: re.Match[bytes]) -> bytes:
    code = match.group()[0]
    return _SHORT_ESCAPES.get(code) or b"\\u%04x" % code


def json_string(text: bytes) -> bytes:
    """``text`` as a JSON string, byte for byte as the Lua scripts write it (only ``"``, ``\\`` and
    control characters escaped; other bytes, UTF-8 included, kept)."""
    return b'"' + _NEEDS_ESCAPE.sub(_escape, text) + b'"'


def _payload_json(payload: bytes) -> bytes:
    # Embedded as is when it has the shape of a JSON object; checking it fully would cost a JSON parse
    # per job (in Lua, on the server) only to protect a record that lives for the length of one job.
    if payload.startswith(b"{") and payload.endswith(b"}"):
        return payload
    return json_string(payload)


def encode_working_on(queue: str, run_at: str, payload: bytes) -> bytes:
    """The working-on record ``{"queue":..,"run_at":..,"payload":{..}}`` as Ruby Resque writes it."""
    return (
        b'{"queue":'
        + json_string(queue.encode())
        + b',"run_at":"'
        + run_at.encode()
        + b'","payload":'
        + _payload_json(payload)
        + b"}"
    )


_LUA_JSON = r"""
local short = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
               ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
local function json_string(text)
  return '"' .. (string.gsub(text, '[%c"\\]', function(c)
    local code = string.byte(c)
    if code == 127 then return c end
    return short[c] or string.format('\\u%04x', code)
  end)) .. '"'
end
local function payload_json(payload)
  if string.sub(payload, 1, 1) == '{' and string.sub(payload, -1) == '}' then return payload end
  return json_string(payload)
end
"""

# KEYS: 1 worker:<id>, 2 inflight:<id> (set), 3 stat:processed, 4 stat:processed:<id>, 5 stat:failed,
#       6 stat:failed:<id>, 7 inflight:recoveries, 8 pause-all-workers, 9 queues, 10 in-flight list of
#       the acked job, then a (queue list, in-flight list) pair per queue to try, in priority order.
# ARGV: 1 "1" = acknowledge, 2 its queue, 3 its payload, 4 "1" = it failed, 5 "1" = reliable,
#       6 "1" = reserve, 7 run_at, 8 largest payload taken whole (0 = any), 9 the queues set the queue
#       list was expanded from, as _encode_queue_set writes it ("" = a list without wildcards, no check),
#       then one queue name per pair.
_FETCH = (
    _LUA_JSON
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

_FETCH_SHA = hashlib.sha1(_FETCH.encode(), usedforsecurity=False).hexdigest()
_LOAD_FETCH = resp("SCRIPT", "LOAD", _FETCH)

# KEYS: 1 worker:<id>, 2 inflight:<id>, 3 queues, 4 the queue list, 5 its in-flight list.
# ARGV: 1 queue, 2 payload, 3 "1" = reliable, 4 notify channel.
_RELEASE = """
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

# KEYS: 1 inflight:recoveries, 2 inflight:<id>, 3 queues, then a (queue list, in-flight list) pair per
#       queue the worker may hold jobs from.
# ARGV: 1 max recoveries, 2 notify channel, then one queue name per pair.
# Returns {recovered count, queue, payload, queue, payload, ...} for the poison jobs left in place.
_RECOVER = """
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
_DISCARD = """
local removed = redis.call('LREM', KEYS[1], 1, ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('HDEL', KEYS[3], ARGV[2])
return removed
"""


class Subscription:
    """Notifications of pushes (queue names) published by our producers on :attr:`Keys.notify_channel`.

    Uses one dedicated connection; after a connection error it resubscribes on the next :meth:`wait`,
    and so it does once a Sentinel client has learnt of a new primary (a demoted primary keeps its
    subscribers, but nobody publishes there any more).
    """

    def __init__(self, client: Any, channel: str, description: str) -> None:
        self._client = client
        self._channel = channel
        self._description = description
        self._pubsub: Any = None

    def wait(self, timeout: float) -> list[str]:
        """Queue names pushed since the last call, waiting up to ``timeout`` seconds for the first.

        May return early with nothing (e.g. after subscribing); callers loop until their deadline.
        """
        try:
            if self._pubsub is not None and self._primary_moved():
                self.close()
            if self._pubsub is None:
                self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(self._channel)
            names: list[str] = []
            message = self._pubsub.get_message(timeout=max(0.0, timeout))
            while message is not None:
                data = message.get("data")
                if isinstance(data, bytes):
                    names.append(data.decode("utf-8", "replace"))
                message = self._pubsub.get_message(timeout=0.0)
            return names
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            self.close()
            raise ResqueConnectionError(f"cannot reach {self._description}: {error}") from error

    def _primary_moved(self) -> bool:
        # A Sentinel pool records the primary's address each time one of its connections asks the
        # sentinels; other clients have no such attribute.
        address = getattr(self._client.connection_pool, "master_address", None)
        connection = getattr(self._pubsub, "connection", None)
        return address is not None and connection is not None and (connection.host, connection.port) != address

    def close(self) -> None:
        """Drop the connection (a later :meth:`wait` reconnects)."""
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            # An error here means the connection is already gone; nothing else to release.
            with contextlib.suppress(redis.RedisError, OSError):
                pubsub.close()


class FetchCommands(StoreBase):
    def fetch(
        self,
        worker_id: str,
        queues: Sequence[str],
        run_at: str,
        *,
        reliable: bool = True,
        ack: Ack | None = None,
        reserve: bool = True,
        max_payload: int = 0,
        queue_set: Sequence[str] | None = None,
    ) -> Fetched:
        """Acknowledge ``ack`` (if given), then (if ``reserve``) pop the first job of ``queues``.

        One round trip, packed by hand (see :meth:`_fetch_frame`): redis-py's command machinery would
        cost more than the round trip itself. The popped job's working-on record says it started at
        ``run_at``. A payload over ``max_payload`` bytes (0: no limit) is cut to its head (see above).

        ``queue_set`` is the ``queues`` set that ``queues`` was expanded from (a worker with wildcards):
        if the set is no longer that, nothing is popped and the reply is ``"stale"`` with the set as it
        is now, so the list a job is popped by always matches the set at that moment.
        """
        frame = self._fetch_frame(
            worker_id,
            tuple(queues) if reserve else (),
            reliable,
            reserve,
            max_payload,
            _encode_queue_set(tuple(queue_set)) if reserve and queue_set is not None else b"",
        )
        head, middle, flags, tail = frame
        keys = self.keys
        packed = b"".join(
            (
                head,
                resp_bulk(keys.inflight(ack.queue, worker_id) if ack is not None else keys.worker(worker_id)),
                middle,
                b"$1\r\n1\r\n" if ack is not None else b"$1\r\n0\r\n",
                resp_bulk(ack.queue if ack is not None else b""),
                resp_bulk(ack.payload if ack is not None else b""),
                b"$1\r\n1\r\n" if ack is not None and ack.failed else b"$1\r\n0\r\n",
                flags,
                resp_bulk(run_at),
                tail,
            )
        )
        # Durable: the reserve waits too, so a worker never runs a job popped from a primary that a
        # failover is abandoning (its WAIT fails and the fetch is sent again to the new primary).
        durable = self.wait_replicas > 0
        try:
            reply = self._hot_exchange([packed], durable)
        except redis.exceptions.NoScriptError:
            # This server (restarted, or a new primary after a failover) has not seen the script:
            # load it on the same connection, in the same round trip.
            reply = self._hot_exchange([_LOAD_FETCH, packed], durable)
        state = reply[0].decode()
        if state == "job":
            return Fetched("job", reply[1].decode(), bytes(reply[2]), int(reply[3]) or None)
        if state == "stale":
            return Fetched(state, queue_set=tuple(sorted(name.decode() for name in reply[1:])))
        return Fetched(state)

    def _hot_exchange(self, packed: list[bytes], durable: bool) -> Any:
        """Send packed commands on this thread's own connection and read the last one's reply
        (``durable``: followed by WAIT, checked, so the acknowledgement and the reserve survive a
        failover).

        A worker calls :meth:`fetch` once per job; taking a connection from the pool and giving it back
        each time would cost a good part of a round trip. Each thread (and each forked process) gets its
        own connection, made by the pool with the client's settings.
        """
        local: threading.local | None = self.__dict__.get("_fetch_local")
        if local is None:  # not setdefault's eager default: a threading.local per call costs more than a hit
            local = self.__dict__.setdefault("_fetch_local", threading.local())
        connection = getattr(local, "connection", None)
        if connection is None or getattr(connection, "pid", None) != os.getpid():
            connection = local.connection = self.client.connection_pool.make_connection()
        words = [*packed, self._wait_command] if durable else packed
        # connect() itself, not the implicit one of sending: a Sentinel-managed connection asks the
        # sentinels for the primary only there (sending would reconnect to its last, or default, address).
        connection.connect()
        try:
            return self._replies(self._exchange(connection, words, len(words)), durable)[-1]
        except (redis.ConnectionError, DurabilityError) as error:
            if not self._primary_moved(error, connection):
                raise
        connection.connect()
        return self._replies(self._exchange(connection, words, len(words)), durable)[-1]

    def _fetch_frame(
        self,
        worker_id: str,
        queues: tuple[str, ...],
        reliable: bool,
        reserve: bool,
        max_payload: int,
        queue_set: bytes,
    ) -> tuple[bytes, ...]:
        """The unchanging parts of a worker's ``EVALSHA`` of :data:`_FETCH`, packed once (the hot path
        then only packs the acknowledged job and the time)."""
        cache_key = (
            "fetch",
            "\0".join((worker_id, str(reliable), str(reserve), str(max_payload), queue_set.hex(), *queues)),
        )
        frame = self._packed.get(cache_key)
        if frame is not None:
            return frame
        keys = self.keys
        fixed_keys = [
            keys.worker(worker_id),
            keys.inflight_queues(worker_id),
            keys.stat("processed"),
            keys.worker_stat("processed", worker_id),
            keys.stat("failed"),
            keys.worker_stat("failed", worker_id),
            keys.recoveries,
            keys.pause_all,
            keys.queues,
        ]
        pair_keys = [key for queue in queues for key in (keys.queue(queue), keys.inflight(queue, worker_id))]
        numkeys = len(fixed_keys) + 1 + len(pair_keys)
        words = 3 + numkeys + 9 + len(queues)
        frame = (
            resp("EVALSHA", _FETCH_SHA, str(numkeys), *fixed_keys, arity=words),
            b"".join(map(resp_bulk, pair_keys)),
            resp_bulk("1" if reliable else "0") + resp_bulk("1" if reserve else "0"),
            resp_bulk(str(max_payload)) + resp_bulk(queue_set) + b"".join(map(resp_bulk, queues)),
        )
        if len(self._packed) > 256:  # wildcard workers see changing queue lists; keep the cache small
            self._packed.clear()
        self._packed[cache_key] = frame
        return frame

    def release(self, worker_id: str, queue: str, payload: bytes, *, reliable: bool = True) -> None:
        """Put a reserved but unstarted job back at the head of its queue and clear the working-on record."""
        keys = self.keys
        self._durable_script(
            _RELEASE,
            [
                keys.worker(worker_id),
                keys.inflight_queues(worker_id),
                keys.queues,
                keys.queue(queue),
                keys.inflight(queue, worker_id),
            ],
            [queue, payload, "1" if reliable else "0", keys.notify_channel],
        )

    def _inflight_queue_names(self, worker_id: str) -> list[str]:
        return sorted(raw.decode() for raw in self.client.smembers(self.keys.inflight_queues(worker_id)))

    def inflight(self, worker_id: str) -> list[tuple[str, bytes]]:
        """``(queue, payload)`` of every job in ``worker_id``'s in-flight lists, oldest first per queue."""
        names = self._inflight_queue_names(worker_id)
        if not names:
            return []
        commands: list[Command] = [("LRANGE", self.keys.inflight(name, worker_id), 0, -1) for name in names]
        pages = self._round_trip(commands)
        return [(name, bytes(payload)) for name, page in zip(names, pages, strict=True) for payload in page]

    def recover_inflight(self, worker_id: str, max_recoveries: int) -> tuple[int, list[tuple[str, bytes]]]:
        """Push a dead worker's in-flight jobs back to the head of their queues, counting each.

        Returns how many were pushed back, and the poison jobs (recovered more than ``max_recoveries``
        times), which stay in the in-flight list until :meth:`discard_inflight`.
        """
        names = self._inflight_queue_names(worker_id)
        if not names:
            return 0, []
        keys = self.keys
        script_keys = [keys.recoveries, keys.inflight_queues(worker_id), keys.queues]
        for name in names:
            script_keys += [keys.queue(name), keys.inflight(name, worker_id)]
        reply = self._durable_script(_RECOVER, script_keys, [max_recoveries, keys.notify_channel, *names])
        poison = [(reply[i].decode(), bytes(reply[i + 1])) for i in range(1, len(reply), 2)]
        return int(reply[0]), poison

    def discard_inflight(self, worker_id: str, queue: str, payload: bytes) -> bool:
        """Drop one in-flight job (a poison job once its failure is recorded) and its recovery count."""
        keys = self.keys
        removed = self._script(_DISCARD)(
            keys=[keys.inflight(queue, worker_id), keys.inflight_queues(worker_id), keys.recoveries],
            args=[queue, payload],
        )
        return bool(removed)

    def subscribe(self) -> Subscription:
        """A :class:`Subscription` to push notifications, on its own connection."""
        return Subscription(self.client, self.keys.notify_channel, self.description)
