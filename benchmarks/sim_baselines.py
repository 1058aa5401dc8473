"""Baselines and counts for the simulator's ratios (issue 22), used by :mod:`benchmarks.sim`.

- :func:`simpy_only_loop`: the memory twin's yardstick, a SimPy loop of the same events per job
  (arrival, reserve, timeout, done) with no library code at all;
- :func:`command_counts`: what the simulator sends fakeredis per simulated job (round trips, commands,
  Lua scripts), counted by a connection class of the benchmark's own (fakeredis's public
  ``connection_class`` parameter), so nothing of fakeredis or the library is patched;
- :func:`fakeredis_costs`: the smallest reproduction of where fakeredis is the wall: per call, an
  ``EVALSHA`` of an empty script, the same few commands inside ``EVALSHA`` and inside ``FCALL`` (compiled
  once, at ``FUNCTION LOAD``), and sent plainly; a push with and without its ``PUBLISH``.

    python -m benchmarks.sim_baselines
"""

from __future__ import annotations

import collections
import random
import sys
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any, ClassVar

import fakeredis
import simpy

from resque_impl import Keys
from resque_impl.store import Ack, Store, StoreProtocol
from resque_sim.engine import Backend, SimClock, simulate
from resque_sim.scenario import Scenario

__all__ = [
    "CountingConnection",
    "command_counts",
    "default_store_backend",
    "default_store_rate",
    "fakeredis_costs",
    "fetch_script_costs",
    "simpy_only_loop",
]


def simpy_only_loop(jobs: int = 50_000, workers: int = 16, rate: float = 14.0, mean: float = 0.9) -> float:
    """Jobs per wall-second of a bare SimPy model of a queue: Poisson arrivals (``rate``/s) put each job
    in a ``simpy.Store``, ``workers`` processes take one (reserve), wait its exponential duration
    (``mean`` s) and count it done. The same events per job as the simulator, and nothing else."""
    draw = random.Random(42)
    env = simpy.Environment()
    queue: simpy.Store = simpy.Store(env)
    done = 0

    def arrive() -> Generator[simpy.Event, Any, None]:
        for job in range(jobs):
            yield env.timeout(draw.expovariate(rate))
            queue.put((job, draw.expovariate(1 / mean)))

    def work() -> Generator[simpy.Event, Any, None]:
        nonlocal done
        while True:
            job: tuple[int, float] = yield queue.get()
            yield env.timeout(job[1])
            done += 1

    env.process(arrive())
    for _ in range(workers):
        env.process(work())
    started = time.perf_counter()
    env.run()
    return done / (time.perf_counter() - started)


def _resp_commands(packed: bytes) -> Iterator[bytes]:
    """The name of each command in ``packed`` (RESP arrays of bulk strings, as clients send them)."""
    at = 0
    while at < len(packed):
        end = packed.index(b"\r\n", at)
        words = int(packed[at + 1 : end])
        at = end + 2
        for word in range(words):
            end = packed.index(b"\r\n", at)
            size = int(packed[at + 1 : end])
            if word == 0:
                yield packed[end + 2 : end + 2 + size].upper()
            at = end + 2 + size + 2


class CountingConnection(fakeredis.FakeRedisConnection):
    """A fakeredis connection that counts what is sent through it: sends (round trips) and commands by
    name, in the class-level :attr:`counts` (reset it before a measurement)."""

    counts: ClassVar[collections.Counter[bytes]] = collections.Counter()

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        chunks = [command] if isinstance(command, bytes | bytearray | memoryview) else list(command)
        data = b"".join(bytes(chunk) for chunk in chunks)
        CountingConnection.counts[b"(round trips)"] += 1
        CountingConnection.counts.update(_resp_commands(data))
        super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call]


class _CountingFake(Backend):
    """The fake backend on a :class:`CountingConnection`."""

    def open(self, clock: SimClock) -> StoreProtocol:
        client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), connection_class=CountingConnection)
        return Store(client, Keys(), "fakeredis", notify=False, fetch_function=True)  # as Backend("fake")


SCRIPTS = (b"EVAL", b"EVALSHA", b"FCALL", b"FCALL_RO")


def command_counts(scenario: Scenario) -> tuple[int, dict[str, float]]:
    """Simulated jobs (attempts) of one run of ``scenario`` on fakeredis, and per job: round trips,
    commands sent, Lua scripts run, and each command by name."""
    CountingConnection.counts.clear()
    record = simulate(scenario, backend=_CountingFake("fake"))
    counts = dict(CountingConnection.counts)
    jobs = record.attempts
    trips = counts.pop(b"(round trips)", 0)
    per_job = {
        "round trips": trips / jobs,
        "commands": sum(counts.values()) / jobs,
        "Lua scripts": sum(counts.get(name, 0) for name in SCRIPTS) / jobs,
    }
    for name, count in sorted(counts.items(), key=lambda item: -item[1]):
        per_job[f"  {name.decode()}"] = count / jobs
    return jobs, per_job


_BODY = """
redis.call('INCRBY', KEYS[1], 1)
redis.call('INCRBY', KEYS[2], 1)
redis.call('GET', KEYS[3])
local payload = redis.call('LPOP', KEYS[4])
redis.call('SET', KEYS[5], 'x')
redis.call('DEL', KEYS[5])
return payload
"""
_LIBRARY = "#!lua name=bench\nredis.register_function('six', function(KEYS, ARGV)" + _BODY + "end)"
_KEYS = ("stat:a", "stat:b", "pause", "queue:q", "worker:w")


def _per_call(calls: int, setup: Callable[[Any], None], call: Callable[[Any], object]) -> float:
    client: Any = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    setup(client)
    started = time.perf_counter()
    for _ in range(calls):
        call(client)
    return (time.perf_counter() - started) / calls * 1e6


def fakeredis_costs(calls: int = 3_000) -> dict[str, float]:
    """Microseconds per call on a fresh fakeredis of: an ``EVALSHA`` of ``return 1`` and of a 150-line
    script (fakeredis compiles the script on every call, so its length costs every time); six commands
    (INCRBY x2, GET, LPOP, SET, DEL) in one ``EVALSHA``, in one ``FCALL`` and pipelined without Lua; a
    push (SADD + RPUSH) pipelined with and without its ``PUBLISH``."""
    empty, six, long = "return 1", _BODY, "local x = 0\n" + "x = x + 1\n" * 150 + "return x"

    def load(source: str) -> Callable[[Any], None]:
        def setup(client: Any) -> None:
            client.script_load(source)
            client.rpush("queue:q", *(b"x" for _ in range(calls)))

        return setup

    def evalsha(source: str) -> Callable[[Any], object]:
        sha = fakeredis.FakeRedis().script_load(source)  # the same SHA on any server
        return lambda client: client.evalsha(sha, len(_KEYS), *_KEYS)

    def fcall_setup(client: Any) -> None:
        client.function_load(_LIBRARY)
        client.rpush("queue:q", *(b"x" for _ in range(calls)))

    def plain(client: Any) -> object:
        with client.pipeline(transaction=False) as pipe:
            pipe.incrby("stat:a", 1).incrby("stat:b", 1).get("pause").lpop("queue:q")
            pipe.set("worker:w", "x").delete("worker:w")
            return pipe.execute()

    def push(publish: bool) -> Callable[[Any], object]:
        def call(client: Any) -> object:
            with client.pipeline(transaction=False) as pipe:
                pipe.sadd("queues", "q").rpush("queue:q", b"{}")
                if publish:
                    pipe.publish("resque:notify", "q")
                return pipe.execute()

        return call

    return {
        "EVALSHA of 'return 1'": _per_call(calls, load(empty), evalsha(empty)),
        "EVALSHA of 150 lines of arithmetic, no command": _per_call(calls, load(long), evalsha(long)),
        "EVALSHA of six commands": _per_call(calls, load(six), evalsha(six)),
        "FCALL of the same six (FUNCTION LOAD once)": _per_call(
            calls, fcall_setup, lambda client: client.fcall("six", len(_KEYS), *_KEYS)
        ),
        "the same six pipelined, no Lua": _per_call(calls, load(empty), plain),
        "push: SADD + RPUSH + PUBLISH, pipelined": _per_call(calls, load(empty), push(True)),
        "push: SADD + RPUSH, pipelined": _per_call(calls, load(empty), push(False)),
    }


def fetch_script_costs(calls: int = 2_000) -> dict[str, float]:
    """Microseconds per call on fakeredis of the worker's own fetch (acknowledge the last job, take the
    next from ``critical, email``, reliably) through the library's :meth:`Store.fetch`, as it sends it
    by default (``EVALSHA``) and as a function (``fetch_function=True``: ``FCALL``, compiled once): what
    caching compiled scripts would buy."""
    worker, queues, run_at = "bench:1:critical,email", ("critical", "email"), "2026-01-01T00:00:00Z"
    payload = b'{"class":"Job","args":[1]}'

    def per_fetch(fetch_function: bool) -> float:
        client: Any = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        store = Store(client, Keys(), "fakeredis", fetch_function=fetch_function)
        client.rpush(store.keys.queue("email"), *(payload for _ in range(calls + 1)))
        store.fetch(worker, queues, run_at)  # untimed: loads the script or the function
        ack = Ack("email", payload)
        started = time.perf_counter()
        for _ in range(calls):
            store.fetch(worker, queues, run_at, ack=ack)
        return (time.perf_counter() - started) / calls * 1e6

    return {
        "fetch script by EVALSHA (Store.fetch)": per_fetch(fetch_function=False),
        "the same body by FCALL (fetch_function=True)": per_fetch(fetch_function=True),
    }


class _DefaultFake(Backend):
    """The fake backend on a store with the library's defaults (the fetch by ``EVALSHA``, a ``PUBLISH``
    per push), as the simulator used before it turned both off for its private fakeredis."""

    def open(self, clock: SimClock) -> StoreProtocol:
        return Store(fakeredis.FakeRedis(server=fakeredis.FakeServer()), Keys(), "fakeredis")


def default_store_backend() -> Backend:
    """The fake backend on a store with the library's defaults (see :class:`_DefaultFake`)."""
    return _DefaultFake("fake")


def default_store_rate(scenario: Scenario) -> float:
    """Simulated jobs per wall-second of ``scenario`` on fakeredis through a store with the library's
    defaults (see :class:`_DefaultFake`): what ``notify=False`` and ``fetch_function=True`` buy."""
    started = time.perf_counter()
    record = simulate(scenario, backend=_DefaultFake("fake"))
    return record.attempts / (time.perf_counter() - started)


def main() -> int:
    for name, micros in (fakeredis_costs() | fetch_script_costs()).items():
        print(f"  {name:<52} {micros:>10,.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
