"""Where a simulation's store lives (:class:`Backend`: fakeredis, the in-memory twin or a real Redis)
and the library clock that reads simulated time (:class:`SimClock`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import fakeredis
import redis
import simpy

from resque_impl import Keys, ResqueError
from resque_impl.connection import connect
from resque_impl.keys import DEFAULT_NAMESPACE
from resque_impl.store import Store, StoreProtocol
from resque_impl.store.memory import MemoryStore
from resque_sim.scenario import Scenario

__all__ = ["EPOCH", "Backend", "BackendError", "SimClock"]

EPOCH = 1_767_225_600.0
"""Simulated time 0 on the library's clock: 2026-01-01 00:00:00 UTC (a midnight, as diurnal loads assume)."""


class BackendError(RuntimeError):
    """The backend cannot be used as asked (e.g. a Redis database holding data, without ``--allow-flush``)."""


class SimClock:
    """The library's clock in simulated time: ``time()`` is ``epoch + env.now``.

    ``sleep`` is refused: the worker steps never sleep, and a library path that did would stall nothing
    in simulated time while claiming to wait, so it is better found at once.
    """

    def __init__(self, env: simpy.Environment, epoch: float = EPOCH) -> None:
        self._env = env
        self._epoch = epoch

    def time(self) -> float:
        # no float() needed: the float epoch makes the sum one, the same whether now is an int or a float
        return self._epoch + self._env.now

    @property
    def now(self) -> float:
        """Simulated seconds since the start (exact, unlike ``time() - epoch``)."""
        return float(self._env.now)

    def sleep(self, seconds: float) -> None:
        raise RuntimeError(f"library code tried to sleep {seconds}s in simulated time; the steps never should")


@dataclass(frozen=True)
class Backend:
    """Where the store lives: ``fake`` (a fresh fakeredis server per run), ``memory`` (the in-memory
    twin) or ``redis`` (the server at ``url``; its database must be empty unless ``allow_flush``)."""

    kind: str = "memory"
    url: str | None = None
    allow_flush: bool = False

    @classmethod
    def for_scenario(cls, scenario: Scenario, *, allow_flush: bool = False) -> Backend:
        return cls(scenario.backend, scenario.url, allow_flush)

    def open(self, clock: SimClock) -> StoreProtocol:
        """A store for one run, empty (a Redis database is flushed; see :meth:`claim`)."""
        if self.kind == "memory":
            return MemoryStore(clock=clock)
        if self.kind == "fake":
            # No PUBLISH per push: nothing can subscribe to this private server, and the engine wakes
            # its instant workers itself (_notify). The fetch by FCALL: fakeredis compiles an EVALSHA's
            # script on every call.
            client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
            return Store(client, Keys(), "fakeredis", notify=False, fetch_function=True)
        store = self._redis()
        store.flush_database()
        return store

    def twin(self) -> Backend:
        """Where a run whose results must equal this backend's may go instead: the in-memory twin for
        ``fake`` (byte-identical for the same seed, and much faster), else this backend itself."""
        return Backend("memory") if self.kind == "fake" else self

    def claim(self) -> Backend:
        """Check the backend can be used, and return it ready for several runs in a row.

        A Redis database holding keys is refused (:class:`BackendError`) unless ``allow_flush``; once it
        is ours, each run flushes what the previous one left.
        """
        if self.kind != "redis":
            return self
        self._redis()
        return dataclasses.replace(self, allow_flush=True)

    def _redis(self) -> Store:
        if self.kind != "redis" or self.url is None:
            raise BackendError(f"unknown backend {self.kind!r}; use fake, memory or redis with a url")
        try:
            connection = connect(self.url)
            names = Keys(connection.namespace or DEFAULT_NAMESPACE)
            store = Store(
                connection.client_for(names.namespace),
                names,
                connection.description,
                wait_replicas=connection.wait_replicas,
                wait_timeout=connection.wait_timeout,
            )
            keys = store.database_size()
        except (ResqueError, redis.RedisError) as error:  # a bad URL, or a server that does not answer
            raise BackendError(f"cannot use Redis at {self.url}: {error}") from error
        if keys and not self.allow_flush:
            raise BackendError(
                f"the Redis database at {self.url} holds {keys} keys; the simulator empties the database it "
                "uses, so point it at an empty one, or pass --allow-flush to delete them"
            )
        return store
