"""Resque-style global use through a default instance, created lazily."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator

import fakeredis
import pytest

import resque_impl
from resque_impl import default
from tests.jobs import EmailJob


@pytest.fixture
def configured() -> Iterator[resque_impl.Resque]:
    previous = default._current
    yield resque_impl.configure(fakeredis.FakeRedis())
    default._current = previous


def test_module_functions_use_the_configured_instance(configured: resque_impl.Resque) -> None:
    assert resque_impl.enqueue(EmailJob, 1) is True
    assert resque_impl.enqueue_to("other", EmailJob, 2) is True
    assert resque_impl.enqueue_many(EmailJob, [(3,)]) == 1
    assert resque_impl.size("email") == 2
    assert [job.args for job in resque_impl.peek("email", 0, 5)] == [[1], [3]]
    assert resque_impl.queues() == ["email", "other"]
    assert resque_impl.dequeue(EmailJob, 1) == 1
    resque_impl.remove_queue("other")
    assert resque_impl.info()["pending"] == 1
    assert resque_impl.current() is configured


def test_configure_accepts_an_instance(configured: resque_impl.Resque) -> None:
    other = resque_impl.Resque(fakeredis.FakeRedis(), namespace="other")
    assert resque_impl.configure(other) is other
    assert resque_impl.current().namespace == "other"


def test_importing_opens_no_connection() -> None:
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('network used at import time')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import resque_impl, resque_impl.cli, resque_impl.testing\n"
        "resque_impl.Resque('redis://127.0.0.1:1/0')\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr


def test_a_scoped_default_holds_in_its_thread_and_the_coroutines_it_starts(configured: resque_impl.Resque) -> None:
    mine = resque_impl.Resque(fakeredis.FakeRedis(), namespace="mine")
    seen: dict[str, resque_impl.Resque] = {}

    async def in_a_coroutine() -> resque_impl.Resque:
        return resque_impl.current()

    def elsewhere() -> None:
        seen["other thread"] = resque_impl.current()

    with default.scoped(mine):
        seen["here"] = resque_impl.current()
        seen["coroutine"] = asyncio.run(in_a_coroutine())
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()

    assert seen == {"here": mine, "coroutine": mine, "other thread": configured}
    assert resque_impl.current() is configured
