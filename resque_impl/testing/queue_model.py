"""Resque's queue semantics in a page of plain Python: what :mod:`resque_impl.testing.statemachine`
checks a real ``Resque`` and its workers against after every step."""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from typing import Any

from resque_impl.codec import dumps

__all__ = ["Failure", "QueueModel", "payload_identity"]


@dataclass
class Failure:
    """What the model keeps of a failure record."""

    class_name: str
    args: list[Any]
    queue: str
    retried: bool = False


@dataclass
class QueueModel:
    """Resque's semantics in plain Python: FIFO lists per queue, the set of known queues, failures."""

    queues: dict[str, list[tuple[str, list[Any]]]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    processed: int = 0
    failed: int = 0
    #: Reliable fetch: worker id -> (queue, class name, args) of the job it holds.
    holding: dict[str, tuple[str, str, list[Any]]] = field(default_factory=dict)
    #: Reliable fetch: how often each payload was recovered from a dead worker.
    recoveries: dict[bytes, int] = field(default_factory=dict)
    #: Delayed jobs: epoch second -> (queue, class name, args), in the order they were scheduled.
    delayed: dict[int, list[tuple[str, str, list[Any]]]] = field(default_factory=dict)

    def schedule(self, timestamp: int, queue: str, class_name: str, args: list[Any]) -> None:
        self.delayed.setdefault(timestamp, []).append((queue, class_name, args))

    def release(self, now: float) -> int:
        """Move every delayed job due by ``now`` to its queue: earliest second first, then in order."""
        moved = 0
        for timestamp in sorted(stamp for stamp in self.delayed if stamp <= math.floor(now)):
            for queue, class_name, args in self.delayed.pop(timestamp):
                self.push(queue, class_name, args)
                moved += 1
        return moved

    def remove_delayed(self, queue: str, class_name: str, args: list[Any]) -> int:
        """Remove every delayed copy of this exact job; how many."""
        removed = 0
        for timestamp in list(self.delayed):
            kept = [item for item in self.delayed[timestamp] if item != (queue, class_name, args)]
            removed += len(self.delayed[timestamp]) - len(kept)
            if kept:
                self.delayed[timestamp] = kept
            else:
                del self.delayed[timestamp]
        return removed

    def scheduled(self) -> list[tuple[int, str, str, list[Any]]]:
        return [(stamp, *item) for stamp in sorted(self.delayed) for item in self.delayed[stamp]]

    def push(self, queue: str, class_name: str, args: list[Any]) -> None:
        self.known.add(queue)
        self.queues.setdefault(queue, []).append((class_name, args))

    def push_front(self, queue: str, class_name: str, args: list[Any]) -> None:
        self.known.add(queue)
        self.queues.setdefault(queue, []).insert(0, (class_name, args))

    def reserve(self, worker_id: str, patterns: list[str]) -> tuple[str, str, list[Any]] | None:
        """The head of the first non-empty queue in the worker's list, now held by the worker."""
        for queue in self.expand(patterns):
            if self.queues.get(queue):
                class_name, args = self.queues[queue].pop(0)
                self.holding[worker_id] = (queue, class_name, args)
                return self.holding[worker_id]
        return None

    def finish(self, worker_id: str, failed: bool) -> None:
        """The worker acknowledged its job: counted, its recovery count forgotten, a failure recorded."""
        queue, class_name, args = self.holding.pop(worker_id)
        self.recoveries.pop(payload_identity(class_name, args), None)
        self.processed += 1
        if failed:
            self.failed += 1
            self.failures.append(Failure(class_name, args, queue))

    def recover(self, worker_id: str, max_recoveries: int) -> bool:
        """A dead worker's job goes back to the head of its queue, unless it was recovered too often
        (then it is a poison failure). Returns whether it was requeued."""
        queue, class_name, args = self.holding.pop(worker_id)
        identity = payload_identity(class_name, args)
        count = self.recoveries.get(identity, 0) + 1
        if count > max_recoveries:
            self.recoveries.pop(identity, None)
            self.failures.append(Failure(class_name, args, queue))
            return False
        self.recoveries[identity] = count
        self.push_front(queue, class_name, args)
        return True

    def dequeue(self, queue: str, class_name: str, args: list[Any] | None) -> int:
        """Remove every entry of the class (with exactly ``args``, if given); how many."""
        entries = self.queues.get(queue, [])
        kept = [entry for entry in entries if not (entry[0] == class_name and (args is None or entry[1] == args))]
        self.queues[queue] = kept
        return len(entries) - len(kept)

    def remove_queue(self, queue: str) -> None:
        self.known.discard(queue)
        self.queues.pop(queue, None)

    def contents(self) -> dict[str, list[tuple[str, list[Any]]]]:
        return {queue: entries for queue, entries in self.queues.items() if entries}

    def expand(self, patterns: list[str]) -> list[str]:
        """Ruby Resque's queue list: each pattern's matches among known queues, sorted, in pattern order,
        without duplicates (without wildcards: the names as given); minus ``!`` exclusions."""
        includes = [pattern for pattern in patterns if not pattern.startswith("!")]
        excludes = [pattern[1:] for pattern in patterns if pattern.startswith("!")]
        if any(set(pattern) & set("*?[") for pattern in includes):
            matches = [
                queue for pattern in includes for queue in sorted(self.known) if fnmatch.fnmatchcase(queue, pattern)
            ]
        else:
            matches = includes
        ordered = list(dict.fromkeys(matches))
        return [queue for queue in ordered if not any(fnmatch.fnmatchcase(queue, ex) for ex in excludes)]


def payload_identity(class_name: str, args: list[Any]) -> bytes:
    """A payload's identity as reliable fetch counts recoveries: its exact bytes."""
    return dumps({"class": class_name, "args": args})
