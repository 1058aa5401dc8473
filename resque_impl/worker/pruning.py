"""Deciding which registered workers are dead, as Ruby Resque's ``prune_dead_workers`` does.

A worker is dead when its heartbeat is older than the stale age (five heartbeat intervals), or when it
runs on this host, serves the same queues (or we serve ``*``), and its pid is not a live process titled
like a Resque worker. A worker that never sent a heartbeat is left alone (another library's worker). As
in Ruby, a stale heartbeat of a worker that is not registered (any more) is dead too, so that its entry
is removed.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path

__all__ = ["LocalPids", "dead_workers", "heartbeat_epoch", "local_worker_pids"]

#: Returns the pids (as text) of live Resque worker processes on this host.
LocalPids = Callable[[], Collection[str]]

# Ruby's linux_worker_pids: `ps -A -o pid,command | grep -E "[r]esque:work|[r]esque:\sStarting|[r]esque-[0-9]"`
_WORKER_TITLE = re.compile(r"resque:work|resque:\sStarting|resque-[0-9]")


def _from_proc(proc: Path) -> set[str]:
    found: set[str] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue  # the process ended while we looked
        if _WORKER_TITLE.search(command) and "resque-web" not in command:
            found.add(entry.name)
    return found


def local_worker_pids() -> set[str]:
    """Pids of processes on this host whose command line looks like a Resque worker's title."""
    proc = Path("/proc")
    if (proc / str(os.getpid()) / "cmdline").exists():
        return _from_proc(proc)
    output = subprocess.run(["ps", "-A", "-o", "pid=,command="], capture_output=True, text=True, check=True).stdout
    return {
        line.split(None, 1)[0]
        for line in output.splitlines()
        if line.strip() and _WORKER_TITLE.search(line) and "resque-web" not in line
    }


def heartbeat_epoch(text: str) -> float | None:
    """A heartbeat value (``2026-11-27T23:43:29+00:00``) as epoch seconds; ``None`` if unreadable."""
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def dead_workers(
    worker_ids: Iterable[str],
    heartbeats: Mapping[str, str],
    *,
    now: float,
    stale_after: float,
    me: str,
    hostname: str,
    my_queues: Collection[str],
    local_pids: LocalPids,
) -> list[tuple[str, bool]]:
    """``(worker id, stale)`` for every dead worker: ``stale`` when found by its heartbeat's age (to be
    unregistered with ``PruneDeadWorkerDirtyExit``), else found dead by its pid on this host. Workers
    with a stale heartbeat come first, registered or not (Ruby looks through the heartbeats)."""

    def stale(worker_id: str) -> bool:
        when = heartbeat_epoch(heartbeats[worker_id])
        return when is not None and now - when > stale_after

    dead = [(worker_id, True) for worker_id in heartbeats if worker_id != me and stale(worker_id)]
    found = {worker_id for worker_id, _ in dead}
    live: Collection[str] | None = None
    for worker_id in worker_ids:
        if worker_id == me or worker_id in found:
            continue
        host, _, rest = worker_id.partition(":")
        pid, _, queues = rest.partition(":")
        if host != hostname:
            continue
        # Empty names are skipped, as Ruby's split drops them: they tell a worker's job slots apart.
        if "*" not in my_queues and {queue for queue in queues.split(",") if queue} != set(my_queues):
            continue
        if live is None:
            live = local_pids()
        if pid not in live:
            dead.append((worker_id, False))
    return dead
