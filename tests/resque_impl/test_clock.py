"""Clocks and the exact timestamp formats Ruby Resque writes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from resque_impl.clock import (
    ManualClock,
    SystemClock,
    format_failed_at,
    format_heartbeat,
    format_run_at,
    format_started,
)

MOMENT = 1795823009.75  # 2026-11-27 23:43:29.75 UTC


def test_formats_match_the_ruby_fixtures() -> None:
    assert format_failed_at(MOMENT) == "2026/11/27 23:43:29 UTC"
    assert format_run_at(MOMENT) == "2026-11-27T23:43:29Z"
    assert format_started(MOMENT) == "2026-11-27 23:43:29 +0000"
    assert format_heartbeat(MOMENT) == "2026-11-27T23:43:29+00:00"


def test_a_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(100)
    clock.sleep(5)
    assert clock.advance(1.5) == 106.5
    clock.set(datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert clock.time() == datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()


def test_a_manual_clock_refuses_to_go_backwards_by_advance() -> None:
    with pytest.raises(ValueError, match="backwards"):
        ManualClock().advance(-1)


def test_a_manual_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        ManualClock().set(datetime(2026, 1, 1))


def test_the_system_clock_reads_real_time() -> None:
    assert abs(SystemClock().time() - datetime.now(timezone.utc).timestamp()) < 5
