"""The worker memory model: forked and in-process jobs, leaks, retention, OOM, restart policies."""

from __future__ import annotations

import pytest

from resque_sim.memory import WorkerMemoryModel
from resque_sim.scenario import RestartPolicy, WorkerMemory


def model(*, fork: bool, **memory: float) -> WorkerMemoryModel:
    limits = {key: memory.pop(key) for key in ("max_rss_mb", "max_jobs", "max_age") if key in memory}
    restart = RestartPolicy(**limits)  # type: ignore[arg-type]
    built = WorkerMemoryModel(WorkerMemory(**memory), restart, fork_per_job=fork)
    built.boot(0.0)
    return built


def test_a_fresh_process_holds_its_base_memory() -> None:
    assert model(fork=False, base_mb=120).rss_mb == 120


def test_a_forked_job_peaks_in_the_child_and_leaves_the_parent_unchanged() -> None:
    worker = model(fork=True, base_mb=100, retention=0.5)
    plan = worker.start_job(working_set_mb=40)
    after = worker.finish_job(working_set_mb=40, leak_mb=5)
    assert (plan.peak_mb, plan.oom_fraction, after) == (140, None, 100)


def test_an_in_process_job_leaks_and_keeps_a_share_of_its_high_water_mark() -> None:
    worker = model(fork=False, base_mb=100, retention=0.5)
    assert worker.start_job(40).peak_mb == 140
    # live memory 100 + 2 leaked; half of what the high-water mark (140) holds above it is kept
    assert worker.finish_job(40, leak_mb=2) == pytest.approx(102 + 0.5 * (140 - 102))


def test_a_smaller_job_reuses_memory_already_held_and_adds_nothing_but_its_leak() -> None:
    worker = model(fork=False, base_mb=100, retention=1.0)
    worker.finish_job(50, leak_mb=0)
    assert worker.rss_mb == 150
    assert worker.start_job(10).peak_mb == 150
    assert worker.finish_job(10, leak_mb=1) == 150


def test_leaks_accumulate_job_after_job() -> None:
    worker = model(fork=False, base_mb=100)
    for _ in range(10):
        worker.finish_job(0, leak_mb=2)
    assert worker.rss_mb == pytest.approx(120)


def test_a_job_passing_the_oom_limit_is_killed_where_it_crosses_it() -> None:
    worker = model(fork=False, base_mb=100, oom_limit_mb=200)
    plan = worker.start_job(working_set_mb=400)
    assert plan.oom_fraction == pytest.approx(0.25)  # grows evenly from 100 to 500; crosses 200 a quarter in
    assert plan.peak_mb == 200


def test_a_forked_child_is_judged_on_parent_plus_working_set() -> None:
    worker = model(fork=True, base_mb=100, oom_limit_mb=200)
    assert worker.start_job(99).oom_fraction is None
    assert worker.start_job(101).oom_fraction is not None


@pytest.mark.parametrize(
    ("settings", "jobs", "leak", "now", "reason"),
    [
        ({"max_rss_mb": 110}, 6, 2.0, 1.0, "max_rss"),
        ({"max_jobs": 5}, 5, 0.0, 1.0, "max_jobs"),
        ({"max_age": 60.0}, 1, 0.0, 60.0, "max_age"),
        ({"max_jobs": 5, "max_rss_mb": 500, "max_age": 60.0}, 4, 1.0, 59.0, None),
    ],
)
def test_restart_policies_fire_between_jobs(
    settings: dict[str, float], jobs: int, leak: float, now: float, reason: str | None
) -> None:
    worker = model(fork=False, base_mb=100, **settings)
    for _ in range(jobs):
        worker.finish_job(0, leak)
    assert worker.restart_reason(now) == reason


def test_boot_resets_memory_jobs_and_age_and_can_take_a_jittered_job_limit() -> None:
    worker = model(fork=False, base_mb=100, max_jobs=5, max_age=60.0)
    for _ in range(5):
        worker.finish_job(30, leak_mb=3)
    worker.boot(500.0, max_jobs=7)
    assert (worker.rss_mb, worker.jobs, worker.age_deadline()) == (100, 0, 560.0)
    for _ in range(6):
        worker.finish_job(0, 0)
    assert worker.restart_reason(501.0) is None
    worker.finish_job(0, 0)
    assert worker.restart_reason(501.0) == "max_jobs"


def test_a_job_lost_to_the_oom_killer_counts_towards_max_jobs() -> None:
    worker = model(fork=True, base_mb=100, max_jobs=1)
    worker.killed_job()
    assert worker.restart_reason(0.0) == "max_jobs"
