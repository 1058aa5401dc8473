"""``python -m benchmarks``: the suite runs its sections on private redis-servers and records what it
measured, where, and against which target. Small sizes: these check the machinery, not the figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import peers, ruby_peer, suite, worker
from benchmarks.__main__ import main
from tests.ruby import RubyResque

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("bench-out")
    status = main(["run", "--quick", "--only", "enqueue,memory,scheduler", "--out", str(out)])
    return status, out


def _rows(document: dict, section: str) -> dict[str, dict]:
    return {row["name"].strip(): row for row in document["sections"][section]["rows"]}


def test_a_run_exits_zero_and_writes_results_json_with_the_machine(quick_run: tuple[int, Path]) -> None:
    status, out = quick_run
    document = json.loads((out / "results.json").read_text())
    assert status == 0
    assert document["machine"]["cpu_count"] >= 1
    assert document["machine"]["python"].split()[0] in {"CPython", "PyPy"}
    assert document["machine"]["redis_server"][0].isdigit()
    assert "resque-impl" in document["machine"]["versions"]
    assert document["quick"] is True


def test_the_sections_run_in_the_order_asked(quick_run: tuple[int, Path]) -> None:
    _, out = quick_run
    document = json.loads((out / "results.json").read_text())
    assert list(document["sections"]) == ["enqueue", "memory", "scheduler"]


def test_each_target_is_recorded_with_its_verdict(quick_run: tuple[int, Path]) -> None:
    _, out = quick_run
    document = json.loads((out / "results.json").read_text())
    enqueue = _rows(document, "enqueue")
    ratio = enqueue["enqueue / bare rpush"]
    assert ratio["target"] == ">= 0.9x"
    assert ratio["ok"] is (ratio["value"] >= 0.9)
    assert enqueue["bare redis-py rpush loop"]["ok"] is None
    missed = [row["name"].strip() for section in document["sections"].values() for row in section["rows"]]
    assert set(document["targets"]["missed"]) <= set(missed)


def test_the_memory_section_reads_the_worker_processes_own_rss(quick_run: tuple[int, Path]) -> None:
    _, out = quick_run
    memory = _rows(json.loads((out / "results.json").read_text()), "memory")
    after = memory["worker RSS after 5,000 jobs"]["value"]
    assert 5 < after < 1_000
    assert memory["growth over the last 3,000 jobs"]["target"] == "< 5 MB"


def test_results_md_has_a_table_per_section_under_the_machine_line(quick_run: tuple[int, Path]) -> None:
    _, out = quick_run
    text = (out / "results.md").read_text()
    assert text.startswith("Measured ")
    assert text.count("| figure | value | unit | target | |") == 3
    assert "| enqueue / bare rpush |" in text


def test_an_unknown_section_is_refused_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--only", "enqueue,speed"])
    assert exit_info.value.code == 2
    assert "unknown section speed; choose from enqueue, worker, latency" in capsys.readouterr().err


def test_list_names_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(suite.SECTIONS)


def test_our_worker_makes_one_round_trip_per_job_and_rq_is_measured_beside_it() -> None:
    rows = {row.name.strip(): row for row in worker.drain(jobs=500, fork_jobs=20, runs=1)}
    assert rows["round trips per job, ours no fork"].value <= 1.05
    assert rows["round trips per job, ours no fork, wildcard"].value <= 1.05
    if peers.installed():
        assert rows["round trips per job, rq SimpleWorker"].value > 1
        assert "ours no fork / rq SimpleWorker" in rows


def test_ruby_resques_workers_are_measured_beside_our_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    ruby = RubyResque.find("")  # skips (fails under CI=true) without ruby and RESQUE_RUBY_LIB
    monkeypatch.setenv(ruby_peer.LIB_VARIABLE, str(ruby.lib))
    rows = {row.name.strip(): row for row in worker.drain(jobs=300, fork_jobs=20, runs=1)}
    assert rows["ours, resque-impl work --burst, fork per job"].value > 0
    assert rows["Ruby Resque, fork per job (work(0), process start included)"].value > 0
    assert rows["ours fork / Ruby Resque fork"].target == ">= 1.5x"
    assert rows["ours no fork / Ruby Resque no fork"].target == ">= 2.5x"
    assert rows["round trips per job, Ruby Resque (fork)"].value > 1  # it reserves and records apart


def test_latency_is_measured_on_worker_processes_started_like_an_operator_would() -> None:
    rows = {row.name.strip(): row for row in worker.latency(samples=3)}
    p50, p99 = rows["idle pickup, ours (fork, default options) p50"].value, rows["idle pickup, ours p99"].value
    assert 0 < p50 <= p99
    if peers.installed():
        assert rows["idle pickup, rq Worker p99"].value > 0


def test_results_md_opens_with_the_headline_figures_beside_their_baselines(quick_run: tuple[int, Path]) -> None:
    _, out = quick_run
    document = json.loads((out / "results.json").read_text())
    headline = suite.summary(document)
    enqueue = _rows(document, "enqueue")
    expected_ratio = f"{enqueue['enqueue / bare rpush']['value']:.2f}x"
    line = next(line for line in headline.splitlines() if line.startswith("| enqueue, one job |"))
    assert "bare redis-py rpush loop:" in line
    assert expected_ratio in line
    assert "| worker, no fork |" not in headline  # not measured in this run: left out, not shown empty
    assert headline in (out / "results.md").read_text()


def test_fewer_than_one_run_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--runs", "0"])
    assert exit_info.value.code == 2
    assert "--runs: must be at least 1, got 0" in capsys.readouterr().err


def test_without_redis_server_the_run_stops_before_measuring_and_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("benchmarks.__main__.RedisServer.available", staticmethod(lambda binary="redis-server": False))
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--quick", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "redis-server is not on PATH: install it" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_section_that_fails_is_named_and_the_run_stops() -> None:
    with pytest.raises(suite.SectionFailed, match="section nope failed"):
        suite._measure_apart("nope", suite.QUICK, False)
