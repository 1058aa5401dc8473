"""Schedule files in resque-scheduler's YAML format, and when cron and every schedules tick."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from resque_impl.errors import ScheduleError
from resque_impl.scheduler import CronTrigger, EveryTrigger, load_schedule_file, parse_duration, parse_schedule

NEW_YORK = ZoneInfo("America/New_York")


def at(*fields: int, zone: Any = timezone.utc) -> float:
    return datetime(*fields, tzinfo=zone).timestamp()  # type: ignore[misc]


def ticks(trigger: CronTrigger, start: float, count: int) -> list[str]:
    found, now = [], start
    for _ in range(count):
        tick = trigger.next_after(now)
        assert tick is not None
        found.append(datetime.fromtimestamp(tick, trigger.zone).isoformat())
        now = tick
    return found


# -- reading files ---------------------------------------------------------------------------------------
def test_a_resque_scheduler_file_reads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        """
queue_documents_for_indexing:
  cron: "0 0 * * *"
  class: QueueDocuments
  queue: high
  args:
  description: "This job queues all content for indexing in solr"
clear_leaderboards_contributors:
  cron: "30 6 * * 1 Europe/Stockholm"
  class: ClearLeaderboards
  queue: low
  args: contributors
HeartbeatJob:
  every: [30s, {first_in: 5s}]
  queue: beats
  args: {region: eu}
"""
    )
    first, second, third = load_schedule_file(path)

    assert (first.name, first.class_name, first.queue, first.args) == (
        "queue_documents_for_indexing", "QueueDocuments", "high", []
    )  # fmt: skip
    assert first.description == "This job queues all content for indexing in solr"
    assert first.trigger == CronTrigger("0 0 * * *")
    assert second.trigger == CronTrigger("30 6 * * 1", ZoneInfo("Europe/Stockholm"))
    assert second.args == ["contributors"]
    assert (third.class_name, third.args) == ("HeartbeatJob", [{"region": "eu"}])
    assert third.trigger == EveryTrigger(30.0, 5.0, "30s")


def test_cron_wins_over_every_and_an_empty_trigger_is_manual_only() -> None:
    both, manual = parse_schedule(
        {"both": {"cron": "* * * * *", "every": "1h", "queue": "q"}, "manual": {"cron": "", "queue": "q"}}
    )
    assert isinstance(both.trigger, CronTrigger)
    assert manual.trigger is None


def test_entries_for_other_environments_are_left_out() -> None:
    data = {
        "everywhere": {"every": "1h", "queue": "q"},
        "prod": {"every": "1h", "queue": "q", "rails_env": "production, staging"},
        "dev": {"every": "1h", "queue": "q", "env": "development"},
    }
    assert [entry.name for entry in parse_schedule(data, env="staging")] == ["everywhere", "prod"]
    assert [entry.name for entry in parse_schedule(data)] == ["everywhere"]


def test_an_empty_file_is_an_empty_schedule(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    assert load_schedule_file(path) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"job": {"queue": "q"}}, r"entry 'job': has neither cron nor every"),
        ({"job": {"cron": "61 * * * *"}}, r"entry 'job': cron '61 \* \* \* \*' is invalid: Bad minute"),
        ({"job": {"cron": "* * * *"}}, r"entry 'job': cron '\* \* \* \*' has 4 fields"),
        ({"job": {"cron": "0 0 30 2 *"}}, r"entry 'job': cron .* is invalid: Bad day-of-month"),
        ({"job": {"cron": "0 5 * * * Mars/Olympus"}}, r"entry 'job': unknown time zone 'Mars/Olympus'"),
        ({"job": {"cron": 5}}, r"entry 'job': cron must be a string"),
        ({"job": {"every": "soon"}}, r"entry 'job': 'soon' is not a duration"),
        ({"job": {"every": "0s"}}, r"entry 'job': a duration must be more than zero"),
        ({"job": {"every": ["1h", {"first_at": "10:00"}]}}, r"entry 'job': every option\(s\) \['first_at'\]"),
        ({"job": {"every": "1h", "class": ""}}, r"entry 'job': class must be a job class name"),
        ({"job": {"every": "1h", "queue": 3}}, r"entry 'job': queue must be a queue name"),
        ({"job": {"every": "1h", "args": [{1, 2}]}}, r"entry 'job': args\[0\]: set is not JSON-serializable"),
        ({"job": "every hour"}, r"entry 'job': must be a mapping"),
        (["job"], r"must be a mapping of schedule names"),
    ],
)
def test_a_bad_entry_is_an_error_naming_it(data: Any, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(data, source="schedule.yaml")


def test_malformed_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("job:\n  cron: [unclosed\n")
    with pytest.raises(ScheduleError, match=r"(?s)bad\.yaml: not valid YAML: .*bad\.yaml\", line 2"):
        load_schedule_file(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match=r"missing\.yaml: cannot read the schedule file"):
        load_schedule_file(tmp_path / "missing.yaml")


def test_unknown_keys_are_warned_about_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    (entry,) = parse_schedule({"job": {"every": "1h", "queue": "q", "custom_job_class": "X"}})
    assert entry.name == "job"
    assert "ignoring unknown key(s) custom_job_class" in caplog.text


# -- durations ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [(30, 30.0), ("45", 45.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("1.5d", 129600.0),
     ("500ms", 0.5), ("1w", 604800.0), ("2M", 5184000.0), ("1y", 31536000.0), ("1h 15m", 4500.0)],
)  # fmt: skip
def test_rufus_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1x", "h", "-5", "5m3", True, None, [1]])
def test_bad_durations(text: Any) -> None:
    with pytest.raises(ScheduleError):
        parse_duration(text)


# -- cron ticks --------------------------------------------------------------------------------------------
def test_five_and_six_field_cron() -> None:
    start = at(2027, 1, 1)
    assert ticks(CronTrigger("*/15 * * * *"), start, 2) == ["2027-01-01T00:15:00+00:00", "2027-01-01T00:30:00+00:00"]
    assert ticks(CronTrigger("*/20 * * * * *"), start, 2) == ["2027-01-01T00:00:20+00:00", "2027-01-01T00:00:40+00:00"]


def test_latest_includes_a_tick_exactly_at_now() -> None:
    trigger = CronTrigger("0 * * * *")
    assert trigger.latest(at(2027, 1, 1, 5)) == at(2027, 1, 1, 5)
    assert trigger.latest(at(2027, 1, 1, 5, 59, 59)) == at(2027, 1, 1, 5)


def test_spring_forward_runs_a_skipped_time_just_after_the_change() -> None:
    # 2027-03-14 02:00 EST jumps to 03:00 EDT in New York.
    start = at(2027, 3, 13, 12, zone=NEW_YORK)
    assert ticks(CronTrigger("30 2 * * *", NEW_YORK), start, 3) == [
        "2027-03-14T03:00:00-04:00",
        "2027-03-15T02:30:00-04:00",
        "2027-03-16T02:30:00-04:00",
    ]


def test_fall_back_runs_a_repeated_fixed_time_once() -> None:
    # 2027-11-07 02:00 EDT falls back to 01:00 EST: 01:30 happens twice on the wall clock.
    start = at(2027, 11, 6, 12, zone=NEW_YORK)
    assert ticks(CronTrigger("30 1 * * *", NEW_YORK), start, 2) == [
        "2027-11-07T01:30:00-04:00",
        "2027-11-08T01:30:00-05:00",
    ]


def test_hourly_jobs_keep_their_rhythm_through_fall_back() -> None:
    start = at(2027, 11, 7, 0, 30, zone=NEW_YORK)
    assert ticks(CronTrigger("0 * * * *", NEW_YORK), start, 3) == [
        "2027-11-07T01:00:00-04:00",
        "2027-11-07T01:00:00-05:00",
        "2027-11-07T02:00:00-05:00",
    ]


def test_a_zone_name_is_told_apart_from_day_and_month_names() -> None:
    (entry,) = parse_schedule({"j": {"cron": "0 9 * JAN-MAR MON-FRI UTC", "queue": "q"}})
    assert entry.trigger == CronTrigger("0 9 * JAN-MAR MON-FRI", ZoneInfo("UTC"))
    (entry,) = parse_schedule({"j": {"cron": "0 0 9 * JAN MON", "queue": "q"}})  # 6 fields, no zone
    assert entry.trigger == CronTrigger("0 0 9 * JAN MON")


# -- every ticks --------------------------------------------------------------------------------------------
def test_every_ticks_lie_on_one_grid_from_the_anchor() -> None:
    trigger = EveryTrigger(60.0)
    anchor = trigger.anchor(1000.4)
    assert anchor == 1000.0  # first tick one period after it was first seen, on a whole second
    assert trigger.latest(1059.0, anchor) is None
    assert trigger.latest(1060.0, anchor) == 1060.0
    assert trigger.latest(1250.0, anchor) == 1240.0  # a late poll fires the latest tick only
    assert trigger.next_after(1250.0, anchor) == 1300.0


def test_every_first_in_sets_the_first_tick() -> None:
    trigger = EveryTrigger(3600.0, first_in=10.0)
    anchor = trigger.anchor(5000.0)
    assert trigger.latest(5010.0, anchor) == 5010.0
    assert trigger.next_after(5010.0, anchor) == 8610.0
