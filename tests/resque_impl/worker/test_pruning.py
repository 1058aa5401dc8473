"""Which registered workers count as dead, by heartbeat age and by process table."""

from __future__ import annotations

import os

from setproctitle import getproctitle, setproctitle

from resque_impl.version import __version__
from resque_impl.worker.pruning import dead_workers, heartbeat_epoch, local_worker_pids
from resque_impl.worker.titles import set_title, title_for

NOW = 1_795_823_009.0


def find(ids: list[str], heartbeats: dict[str, str], **overrides: object) -> list[tuple[str, bool]]:
    options: dict[str, object] = {
        "now": NOW,
        "stale_after": 300.0,
        "me": "box:1:a",
        "hostname": "box",
        "my_queues": ["a"],
        "local_pids": lambda: {"1", "2"},
    }
    options.update(overrides)
    return dead_workers(ids, heartbeats, **options)  # type: ignore[arg-type]


def test_stale_heartbeats_are_dead_anywhere_fresh_ones_are_not() -> None:
    beats = {"far:9:a": "2026-11-27T23:38:28+00:00", "far:8:a": "2026-11-27T23:38:30+00:00"}
    assert find(["far:9:a", "far:8:a"], beats) == [("far:9:a", True)]


def test_a_stale_heartbeat_is_dead_even_when_its_worker_is_not_registered() -> None:
    # Ruby's all_workers_with_expired_heartbeats reads the heartbeats, registered or not.
    beats = {"far:9:a": "2026-11-27T23:38:28+00:00", "far:8:a": "2026-11-27T23:38:30+00:00"}
    assert find([], beats) == [("far:9:a", True)]


def test_same_host_same_queues_without_a_live_process_are_dead() -> None:
    assert find(["box:2:a", "box:3:a", "box:4:b", "elsewhere:5:a"], {}) == [("box:3:a", False)]


def test_a_star_worker_prunes_same_host_workers_of_any_queues() -> None:
    assert find(["box:4:b"], {}, my_queues=["*"]) == [("box:4:b", False)]


def test_a_worker_never_prunes_itself() -> None:
    assert find(["box:1:a"], {"box:1:a": "2000-01-01T00:00:00+00:00"}) == []


def test_heartbeat_text_parses() -> None:
    assert heartbeat_epoch("2026-11-27T23:43:29+00:00") == NOW
    assert heartbeat_epoch("garbage") is None


def test_our_title_is_found_in_the_process_table() -> None:
    previous = getproctitle()
    set_title("Testing")
    try:
        assert str(os.getpid()) in local_worker_pids()
        assert title_for("Testing") == f"resque-{__version__}: Testing"
    finally:
        setproctitle(previous)


def test_a_title_naming_a_hostile_payload_class_is_written_with_escapes() -> None:
    previous = getproctitle()
    set_title("Processing q [Nul\x00Name \ud800]")
    try:
        assert getproctitle() == f"resque-{__version__}: Processing q [Nul\\x00Name \\ud800]"
    finally:
        setproctitle(previous)
