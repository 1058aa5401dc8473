"""Where a ``SENTINEL FAILOVER`` stalls durable enqueues: a timeline of the sentinels' announcements,
the old primary's return as a replica, and a producer enqueueing with ``wait_replicas`` every 5 ms
through one, on a private deployment (a primary, 2 replicas and 3 sentinels on loopback) (issue #19).

With ``wait_replicas`` equal to the number of replicas, no enqueue is confirmed between the promotion
and the old primary's return; ``--fast-demotion`` runs the sentinels with ``SENTINEL DEBUG
info-period 1000 publish-period 250`` (see docs/ha-redis.md, "Demoting the old primary sooner").

    python -m benchmarks.failover_timeline [--wait-replicas 2] [--fast-demotion] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass

import redis

from resque_impl import Registry, Resque, job
from resque_impl.errors import ResqueConnectionError
from resque_impl.testing.sentinel import SentinelTopology

__all__ = ["Step", "run"]

_registry = Registry()
#: The sentinels' announcements that mark a failover's steps.
_CHANNELS = ("+failover-state-send-slaveof-noone", "+promoted-slave", "+switch-master", "+convert-to-slave")


@job(queue="timeline", registry=_registry)
class TimelineJob:
    @staticmethod
    def perform(n: int) -> None: ...


@dataclass(frozen=True)
class Step:
    #: Seconds after ``SENTINEL FAILOVER`` was sent.
    at: float
    what: str


class _Recorder:
    def __init__(self) -> None:
        self.steps: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def note(self, what: str) -> None:
        with self._lock:
            self.steps.append((time.time(), what))

    def listen(self, port: int) -> None:
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=5) as client:
            subscription = client.pubsub(ignore_subscribe_messages=True)
            subscription.subscribe(*_CHANNELS)
            while not self.stop.is_set():
                message = subscription.get_message(timeout=0.1)
                if message is not None:
                    self.note(f"sentinel :{port} {message['channel'].decode()}")
            subscription.close()

    def produce(self, resque: Resque) -> None:
        n = 0
        failing_since: float | None = None
        while not self.stop.is_set():
            try:
                resque.enqueue(TimelineJob, n)
            except ResqueConnectionError as error:
                if failing_since is None:
                    failing_since = time.time()
                    self.note(f"first enqueue refused: {type(error).__name__}")
                time.sleep(0.005)
                continue
            n += 1
            if failing_since is not None:
                self.note(f"first enqueue confirmed again, after {time.time() - failing_since:.2f} s of refusals")
                failing_since = None
            time.sleep(0.005)


def run(wait_replicas: int = 2, fast_demotion: bool = False) -> list[Step]:
    """One ``SENTINEL FAILOVER`` under a durable producer; returns the timeline, first step at 0."""
    recorder = _Recorder()
    with SentinelTopology(fast_demotion=fast_demotion) as topology:
        threads = [threading.Thread(target=recorder.listen, args=(s.port,), daemon=True) for s in topology.sentinels]
        resque = Resque(topology.url, registry=_registry, wait_replicas=wait_replicas)
        threads.append(threading.Thread(target=recorder.produce, args=(resque,), daemon=True))
        for thread in threads:
            thread.start()
        time.sleep(1)
        old = topology.primary_port()
        began = time.time()
        recorder.note("SENTINEL FAILOVER sent")
        topology.failover()
        recorder.note("every sentinel names the new primary")
        with topology.server_on(old).client(socket_timeout=5) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and client.info("replication").get("master_link_status") != "up":
                time.sleep(0.01)
        recorder.note("the old primary is a replica in sync")
        time.sleep(1)
        recorder.stop.set()
        for thread in threads:
            thread.join(5)
    return [Step(round(at - began, 3), what) for at, what in sorted(recorder.steps)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.failover_timeline", description=__doc__.split("\n")[0])
    parser.add_argument("--wait-replicas", type=int, default=2)
    parser.add_argument(
        "--fast-demotion", action="store_true", help="SENTINEL DEBUG info-period 1000 publish-period 250"
    )
    parser.add_argument("--json", help="also write the timeline to this file")
    args = parser.parse_args(argv)
    steps = run(args.wait_replicas, args.fast_demotion)
    for step in steps:
        print(f"{step.at:8.3f} s  {step.what}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump([asdict(step) for step in steps], file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
