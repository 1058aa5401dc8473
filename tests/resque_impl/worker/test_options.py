"""Worker settings read from Ruby Resque's environment variables."""

from __future__ import annotations

import pytest

from resque_impl.errors import ConfigurationError
from resque_impl.worker import WorkerOptions


def test_defaults_are_rubys() -> None:
    options = WorkerOptions()
    assert (options.fork_per_job, options.interval, options.heartbeat_interval, options.prune_after) == (
        True,
        5.0,
        60.0,
        300.0,
    )
    assert (options.term_timeout, options.pre_shutdown_timeout, options.reliable) == (4.0, 0.0, True)


def test_environment_variables() -> None:
    options = WorkerOptions.from_env(
        {
            "FORK_PER_JOB": "false",
            "INTERVAL": "0.5",
            "TERM_CHILD": "1",
            "RESQUE_TERM_TIMEOUT": "10",
            "RESQUE_PRE_SHUTDOWN_TIMEOUT": "2",
            "GRACEFUL_TERM": "yes",
            "RESQUE_MAX_JOBS": "100",
            "RESQUE_RELIABLE": "false",
        }
    )
    assert not options.fork_per_job
    assert options.interval == 0.5
    assert options.term_child
    assert (options.term_timeout, options.pre_shutdown_timeout) == (10.0, 2.0)
    assert options.graceful_term
    assert options.max_jobs == 100
    assert not options.reliable


def test_job_metrics_are_on_unless_the_environment_turns_them_off() -> None:
    assert WorkerOptions().job_metrics
    assert not WorkerOptions.from_env({"RESQUE_JOB_METRICS": "false"}).job_metrics
    assert WorkerOptions.from_env({"RESQUE_JOB_METRICS": "1"}).job_metrics


def test_interval_zero_means_burst() -> None:
    assert WorkerOptions.from_env({"INTERVAL": "0"}).burst


def test_false_looking_values_are_false() -> None:
    assert not WorkerOptions.from_env({"TERM_CHILD": "false"}).term_child
    assert WorkerOptions.from_env({"FORK_PER_JOB": "true"}).fork_per_job


@pytest.mark.parametrize(("name", "value"), [("INTERVAL", "soon"), ("RESQUE_JOB_TIMEOUT", "-1")])
def test_bad_values_are_refused_with_their_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name.rsplit("_", maxsplit=1)[-1].lower() if value == "-1" else name):
        WorkerOptions.from_env({name: value})
