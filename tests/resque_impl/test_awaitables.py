"""Awaiting a job's ``async def`` ``perform`` and hooks from the synchronous code that runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, ClassVar

import pytest

from resque_impl.awaitables import awaited_by, settle
from resque_impl.hooks import Execution


class AsyncJob:
    calls: ClassVar[list[Any]] = []

    @classmethod
    async def before_perform_note(cls, value: int) -> None:
        await asyncio.sleep(0)
        cls.calls.append(("before", value))

    @classmethod
    async def perform(cls, value: int) -> None:
        await asyncio.sleep(0)
        if value < 0:
            raise ValueError("negative")
        cls.calls.append(("perform", value))

    @classmethod
    async def after_perform_note(cls, value: int) -> None:
        cls.calls.append(("after", value))

    @classmethod
    async def on_failure_note(cls, error: BaseException, value: int) -> None:
        cls.calls.append(("failure", str(error)))


def test_a_plain_value_passes_through_and_an_awaitable_is_awaited() -> None:
    async def three() -> int:
        return 3

    assert settle(None) is None
    assert settle(7) == 7
    assert settle(three()) == 3


def test_within_awaited_by_the_runner_awaits() -> None:
    seen: list[Awaitable[Any]] = []

    def runner(awaitable: Awaitable[Any]) -> Any:
        seen.append(awaitable)
        return asyncio.run(asyncio.wait_for(awaitable, 1))  # type: ignore[arg-type]

    async def four() -> int:
        return 4

    with awaited_by(runner):
        assert settle(four()) == 4
    assert len(seen) == 1
    assert settle(5) == 5


def test_async_perform_and_hooks_run_in_order_and_failures_reach_async_failure_hooks() -> None:
    AsyncJob.calls = []
    assert Execution(AsyncJob, [1]).perform() is True
    with pytest.raises(ValueError, match="negative"):
        Execution(AsyncJob, [-1]).perform()
    assert AsyncJob.calls == [("before", 1), ("perform", 1), ("after", 1), ("before", -1), ("failure", "negative")]
