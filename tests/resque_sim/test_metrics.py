"""Statistics from records: definitions checked on small hand-made runs, and the Student-t intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resque_sim.estimates import SweepPoint, estimate, evaluate_slos, recommended, slo_value, student_t_quantile
from resque_sim.metrics import JOB_COLUMNS, jobs_frame, run_stats
from resque_sim.records import COMPLETED, FAILED, RETRIED, Recorder, RunRecord
from resque_sim.scenario import Slo
from resque_sim.timeseries import bucket_width, timeseries


def two_queue_run() -> RunRecord:
    """Two workers, 100 s.  Queue ``a``: jobs at 0, 1 and 2 s; ``b``: one job at 50 s, never started.

    ======  =====  ========  =======  ========  =======  =========  ====================
    row     queue  enqueued  started  finished  worker   outcome    exception
    ======  =====  ========  =======  ========  =======  =========  ====================
    0       a      0         0        10        w0       completed
    1       a      1         2        4         w1       retried    Timeout
    2       a      2         4        8         w1       failed     Timeout
    3       b      50        -        -         -        pending
    ======  =====  ========  =======  ========  =======  =========  ====================
    """
    recorder = Recorder(["Job"], ["a", "b"], ["w0", "w1"])
    rows = [recorder.enqueued(job_id, 0, 0, 1, at) for job_id, at in ((1, 0.0), (2, 1.0), (3, 2.0))]
    recorder.enqueued(4, 0, 1, 1, 50.0)
    recorder.started(rows[0], 0, 0.0, 0.0)
    recorder.started(rows[1], 1, 2.0, 2.0)
    recorder.finished(rows[1], 4.0, RETRIED, "Timeout")
    recorder.started(rows[2], 1, 4.0, 4.0)
    recorder.finished(rows[2], 8.0, FAILED, "Timeout")
    recorder.finished(rows[0], 10.0, COMPLETED)
    recorder.rss(0, 0.0, 50.0)
    recorder.rss(0, 0.0, 80.0, peak=True)
    recorder.worker_down(1, 8.0, 0)
    recorder.worker_up(1, 18.0)
    return recorder.freeze(duration=100.0, scenario="hand-made")


def test_the_job_frame_has_the_contract_columns_in_order() -> None:
    frame = jobs_frame(two_queue_run())
    assert tuple(frame.columns[: len(JOB_COLUMNS)]) == JOB_COLUMNS
    assert frame["wait"].tolist()[:3] == [0.0, 1.0, 2.0]
    assert frame["worker"].isna().tolist() == [False, False, False, True]
    assert frame["outcome"].tolist() == ["completed", "retried", "failed", "pending"]


def test_counts_follow_resque_stats_every_attempt_counting() -> None:
    stats = run_stats(two_queue_run())
    assert (stats.enqueued, stats.completed, stats.failed, stats.retried, stats.pending_at_end) == (4, 1, 2, 1, 1)
    assert stats.enqueued == stats.completed + stats.failed + stats.pending_at_end
    assert stats.failure_rate == pytest.approx(2 / 3)
    assert stats.failures == {"Timeout": 2}


def test_an_unstarted_job_counts_with_the_wait_it_has_had_so_far() -> None:
    stats = run_stats(two_queue_run())
    assert stats.queues["b"].wait.max == 50.0  # enqueued at 50, the run ended at 100
    assert stats.wait.max == 50.0
    assert stats.wait.mean == pytest.approx((0 + 1 + 2 + 50) / 4)


def test_latency_runs_from_enqueue_to_finish() -> None:
    stats = run_stats(two_queue_run())
    assert stats.queues["a"].latency.max == 10.0
    assert stats.queues["a"].latency.mean == pytest.approx((10 + 3 + 6) / 3)


def test_max_depth_is_the_most_jobs_waiting_once_each_instant_is_done() -> None:
    stats = run_stats(two_queue_run())
    # at t=2 job 3 arrives and job 2 (waiting since 1) is reserved: one job waits before and after
    assert stats.queues["a"].max_depth == 1
    assert stats.queues["b"].max_depth == 1


def test_utilization_is_busy_worker_seconds_over_capacity() -> None:
    stats = run_stats(two_queue_run())
    assert stats.utilization == pytest.approx((10 + 2 + 4) / (2 * 100))


def test_restarts_and_peak_memory() -> None:
    stats = run_stats(two_queue_run())
    assert stats.restarts == {"max_jobs": 1}
    assert stats.peak_rss_mb == 80.0


def test_warmup_excludes_early_jobs_from_statistics_but_not_from_counts() -> None:
    run = two_queue_run()
    warm = RunRecord(**{**run.__dict__, "warmup": 1.5})
    stats = run_stats(warm)
    assert stats.enqueued == 4
    assert stats.queues["a"].enqueued == 1
    assert stats.queues["a"].wait.mean == 2.0


def test_timeseries_averages_step_functions_exactly() -> None:
    series = timeseries(two_queue_run(), width=10.0)
    assert len(series) == 10
    # busy: w0 on [0, 10), w1 on [2, 8): 16 worker-seconds in the first bucket
    assert series["busy"].iloc[0] == pytest.approx(1.6)
    # serving workers: w1 down from 8 to 18, so 1.8 on average in [0, 10) and 1.2 in [10, 20)
    assert series["workers"].iloc[:2].tolist() == pytest.approx([1.8, 1.2])
    # queue b holds one job from 50 s on
    assert series["depth:b"].tolist() == pytest.approx([0] * 5 + [1] * 5)
    assert series["failed_per_s:Timeout"].iloc[0] == pytest.approx(0.2)
    assert series["wait_p99:b"].iloc[5] == pytest.approx(50.0)


def test_bucket_widths_are_round_numbers() -> None:
    assert [bucket_width(d) for d in (60, 1800, 7200, 86400)] == [1.0, 5.0, 30.0, 300.0]


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [(0.975, 1, 12.7062), (0.975, 4, 2.7764), (0.975, 9, 2.2622), (0.995, 19, 2.8609), (0.975, 1000, 1.9623)],
)
def test_student_t_quantiles_match_published_tables(p: float, df: int, expected: float) -> None:
    assert student_t_quantile(p, df) == pytest.approx(expected, abs=5e-4)
    assert student_t_quantile(1 - p, df) == pytest.approx(-expected, abs=5e-4)


def test_confidence_interval_covers_the_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(3)
    trials = 4000
    covered = 0
    for _ in range(trials):
        result = estimate(rng.normal(10.0, 2.0, 5).tolist())
        assert result.interval is not None
        low, high = result.interval
        covered += low <= 10.0 <= high
    # binomial standard error of a 95% rate over 4000 trials is 0.0034; allow 4 of them
    assert abs(covered / trials - 0.95) < 4 * math.sqrt(0.95 * 0.05 / trials)


def test_one_replication_has_no_interval() -> None:
    assert estimate([3.0]).interval is None


def test_slo_values_and_verdicts() -> None:
    stats = run_stats(two_queue_run())
    wait_a = Slo(metric="wait", queue="a", percentile=50, max=1.0)
    depth = Slo(metric="max_depth", max=1)
    assert slo_value(stats, wait_a) == 1.0
    assert slo_value(stats, Slo(metric="wait", queue="a", percentile=90, max=1.0)) == pytest.approx(1.8)
    results = evaluate_slos([wait_a, depth], [[1.0, 1.0], [1.5, 2.0], [0.5, 1.0]])
    assert [r.value for r in results] == [1.0, pytest.approx(4 / 3)]
    assert [r.ok for r in results] == [True, False]
    assert results[0].interval is not None
    assert results[0].certain is False


def test_recommended_is_the_smallest_value_meeting_every_slo() -> None:
    judged = evaluate_slos([Slo(metric="utilization", max=0.8)], [[0.5]])
    missed = evaluate_slos([Slo(metric="utilization", max=0.8)], [[0.9]])
    points = [SweepPoint(16, (), tuple(judged)), SweepPoint(8, (), tuple(missed)), SweepPoint(12, (), tuple(judged))]
    assert recommended(points) == 12
    assert recommended([SweepPoint(8, (), tuple(missed))]) is None
