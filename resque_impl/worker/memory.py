"""Resident memory of this process or of another (a job's child), for the ``max_memory_mb`` limit and
the benchmarks."""

from __future__ import annotations

import os
import resource
import sys

__all__ = ["process_rss_mb", "rss_mb"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss_mb(pid: int) -> float | None:
    """Resident set size of process ``pid`` in MB; ``None`` where it cannot be read (no ``/proc``, or
    the process is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE / 1_048_576
    except (OSError, IndexError, ValueError):
        return None


def rss_mb() -> float:
    """Current resident set size of this process in MB (peak RSS where the current one cannot be read)."""
    current = process_rss_mb(os.getpid())
    if current is not None:
        return current
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1_048_576 if sys.platform == "darwin" else peak / 1024
