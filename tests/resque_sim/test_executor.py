"""``--executor``: runs go to local processes (the default) or to a dask.distributed cluster, with the
same results; a malformed URL or a scheduler that cannot be used is a bad option (exit 2), never a hang."""

from __future__ import annotations

import importlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resque_sim.executor import DEFAULT_CONNECT_TIMEOUT, Executor, ExecutorError, parse_executor

from .test_cli import scenario_file, simulate, summary

# in the test extra, so a missing install fails here rather than skipping; Any, as it is untyped
distributed: Any = importlib.import_module("distributed")


def test_local_is_the_default_executor_and_a_dask_url_names_its_scheduler() -> None:
    assert parse_executor("local") == Executor()
    assert parse_executor("dask://scheduler:8786") == Executor("dask", "tcp://scheduler:8786", DEFAULT_CONNECT_TIMEOUT)
    assert parse_executor("dask://10.0.0.5:8786?timeout=2.5") == Executor("dask", "tcp://10.0.0.5:8786", 2.5)


@pytest.mark.parametrize(
    "text",
    [
        "dask",
        "dask://",
        "dask://scheduler",
        "dask://scheduler:port",
        "dask://scheduler:99999",
        "dask://scheduler:8786/path",
        "dask://user@scheduler:8786",
        "dask://scheduler:8786?timeout=0",
        "dask://scheduler:8786?timeout=soon",
        "dask://scheduler:8786?workers=2",
        "tcp://scheduler:8786",
        "ray://scheduler:10001",
        "remote",
    ],
)
def test_a_malformed_executor_is_refused(text: str) -> None:
    with pytest.raises(ExecutorError, match="executor"):
        parse_executor(text)


def test_a_malformed_executor_exits_2_naming_it(tmp_path: Path) -> None:
    result = simulate(scenario_file(tmp_path), "--out", tmp_path / "out", "--executor", "dask://nowhere")
    assert result.exit_code == 2
    assert "dask://nowhere" in result.output
    assert not (tmp_path / "out").exists()


def test_processes_go_with_the_local_executor_only(tmp_path: Path) -> None:
    result = simulate(scenario_file(tmp_path), "--executor", "dask://127.0.0.1:8786", "--processes", "2")
    assert result.exit_code == 2
    assert "--processes" in result.output


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_scheduler_exits_2_within_its_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    result = simulate(
        scenario_file(tmp_path), "--no-charts", "--executor", f"dask://127.0.0.1:{closed_port()}?timeout=1"
    )
    assert result.exit_code == 2
    assert "cannot reach the dask scheduler" in result.output
    assert time.monotonic() - started < 30  # a bound against hanging, not a speed target


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A two-worker dask cluster in this process (threads, so it starts in a second); its scheduler's
    address as a ``dask://`` executor URL."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=":0"
    ) as local:
        yield "dask://" + local.scheduler_address.removeprefix("tcp://")


def test_a_run_on_a_dask_cluster_gives_exactly_the_local_results(tmp_path: Path, cluster: str) -> None:
    path = scenario_file(tmp_path)
    options = ["--replications", "2", "--sweep", "workers.default.count=2,4", "--no-charts", "--quiet"]
    local = simulate(path, "--out", tmp_path / "local", "--processes", "1", *options)
    on_dask = simulate(path, "--out", tmp_path / "dask", "--executor", cluster, *options)
    assert local.exit_code == on_dask.exit_code
    documents = [summary(tmp_path / name) for name in ("local", "dask")]
    for document in documents:
        document.pop("wall_seconds")
    assert documents[0] == documents[1]
    assert [point["value"] for point in documents[0]["sweep"]] == [2, 4]
    jobs = (tmp_path / "local" / "jobs.csv").read_bytes()
    assert jobs.count(b"\n") > 100
    assert jobs == (tmp_path / "dask" / "jobs.csv").read_bytes()


def test_a_scheduler_without_workers_exits_2_rather_than_wait_for_ever(tmp_path: Path) -> None:
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=":0") as empty:
        address = empty.scheduler_address.removeprefix("tcp://")
        result = simulate(scenario_file(tmp_path), "--no-charts", "--executor", f"dask://{address}?timeout=1")
    assert result.exit_code == 2
    assert "has no worker" in result.output
