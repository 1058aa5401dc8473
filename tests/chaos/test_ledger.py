"""The chaos ledger reader: executions from ``begin`` and ``done`` lines, read while jobs still write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos import ledger


def _lines(*entries: dict[str, object]) -> str:
    return "".join(json.dumps(entry) + "\n" for entry in entries)


def test_pairs_each_begin_with_the_done_of_the_same_job_and_process(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    path.write_text(
        _lines(
            {"e": "begin", "job": "b", "pid": 2, "ppid": 1, "t": 2.0},
            {"e": "begin", "job": "a", "pid": 3, "ppid": 1, "t": 1.0},
            {"e": "done", "job": "a", "pid": 3, "t": 1.5, "failed": True},
        )
    )

    runs = ledger.read(path)

    assert [(run.job, run.begin, run.end, run.failed) for run in runs] == [
        ("a", 1.0, 1.5, True),
        ("b", 2.0, None, False),
    ]


def test_leaves_out_a_last_line_still_being_written(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    path.write_text(_lines({"e": "begin", "job": "a", "pid": 3, "ppid": 1, "t": 1.0}) + '{"e": "done", "jo')

    assert [run.job for run in ledger.read(path)] == ["a"]


def test_a_broken_line_before_the_last_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    path.write_text('{"e": "beg\n' + _lines({"e": "begin", "job": "a", "pid": 3, "ppid": 1, "t": 1.0}))

    with pytest.raises(json.JSONDecodeError):
        ledger.read(path)


def test_a_ledger_not_yet_written_has_no_executions(tmp_path: Path) -> None:
    assert ledger.read(tmp_path / "missing") == []
