"""``resque-impl work --statsd HOST:PORT`` (or ``RESQUE_STATSD``): a real worker process sends each
job's counters and timers to a real loopback UDP socket, with no code; with job slots too, where
events come from several threads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from resque_impl import Resque
from resque_impl.testing import RedisServer
from tests.plain_jobs import PlainMark
from tests.timed_jobs import TimedNap

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def resque(redis_server: RedisServer) -> Resque:
    client = redis_server.client()
    client.flushall()
    return Resque(client)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def burst(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", url, "work", "-q", "plain", "--burst"]
    command += ["--jobs", "tests.plain_jobs", *args]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **(env or {})}
    )


def received(sock: socket.socket) -> list[str]:
    """The lines that arrived, until the socket has been quiet for a moment (the worker has exited)."""
    lines: list[str] = []
    sock.settimeout(0.2)
    try:
        while True:
            lines.extend(sock.recv(65536).decode().splitlines())
    except TimeoutError:
        return lines


def names(lines: list[str]) -> list[str]:
    """Each line's metric and type, without the value: ``resque.jobs.X.performed|c``."""
    return [f"{line.split(':')[0]}|{line.rsplit('|', 1)[1]}" for line in lines]


@pytest.mark.parametrize("fork", ["--fork", "--no-fork"])
def test_a_worker_sends_each_jobs_counters_and_timers(
    resque: Resque, redis_server: RedisServer, listener: socket.socket, tmp_path: Path, fork: str
) -> None:
    resque.enqueue(PlainMark, str(tmp_path / "marks"), "one")
    resque.push("plain", {"class": "NoSuchJob", "args": []})
    port = listener.getsockname()[1]

    done = burst(redis_server.url, fork, "--statsd", f"127.0.0.1:{port}")

    assert done.returncode == 0, done.stdout + done.stderr
    assert names(received(listener)) == [
        "resque.jobs.PlainMark.performed|c",
        "resque.jobs.PlainMark.run_time|ms",
        "resque.jobs.PlainMark.perform_time|ms",
        "resque.jobs.NoSuchJob.failed|c",
        "resque.jobs.NoSuchJob.run_time|ms",  # never performed (an unknown class): no perform_time
    ]


def test_the_target_and_prefix_may_come_from_the_environment(
    resque: Resque, redis_server: RedisServer, listener: socket.socket, tmp_path: Path
) -> None:
    resque.enqueue(PlainMark, str(tmp_path / "marks"), "one")
    port = listener.getsockname()[1]
    env = {"RESQUE_STATSD": f"127.0.0.1:{port}", "RESQUE_STATSD_PREFIX": "shop.jobs"}

    done = burst(redis_server.url, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert names(received(listener)) == [
        "shop.jobs.jobs.PlainMark.performed|c",
        "shop.jobs.jobs.PlainMark.run_time|ms",
        "shop.jobs.jobs.PlainMark.perform_time|ms",
    ]


def test_a_bad_address_is_a_usage_error_before_any_job_runs(resque: Resque, redis_server: RedisServer) -> None:
    resque.enqueue(PlainMark, "/nonexistent/marks", "never")
    done = burst(redis_server.url, "--statsd", "localhost")
    assert done.returncode == 2
    assert "is not HOST:PORT" in done.stderr
    assert resque.size("plain") == 1


def test_job_slots_announce_from_several_threads_and_every_subscriber_counts_each_job(
    resque: Resque, redis_server: RedisServer, listener: socket.socket
) -> None:
    jobs = 40
    for _ in range(jobs):
        resque.enqueue(TimedNap, 0.01)
    port = listener.getsockname()[1]

    done = burst(redis_server.url, "--jobs", "tests.timed_jobs", "--concurrency", "4", "--statsd", f"127.0.0.1:{port}")

    assert done.returncode == 0, done.stdout + done.stderr
    sent = names(received(listener))
    assert sent.count("resque.jobs.TimedNap.performed|c") == jobs
    assert sent.count("resque.jobs.TimedNap.run_time|ms") == jobs
    assert sent.count("resque.jobs.TimedNap.perform_time|ms") == jobs
    histogram = resque.store.durations()["TimedNap"]  # the Timing plugin, recording in each slot's thread
    assert histogram["count"] == str(jobs)
    assert float(histogram["sum"]) >= jobs * 0.01
