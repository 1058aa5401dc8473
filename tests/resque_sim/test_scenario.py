"""Scenario files: what parses to what, the defaults, and the one-line message for each kind of mistake."""

from __future__ import annotations

import math
import pickle
import textwrap
from pathlib import Path
from typing import Literal

import pydantic
import pytest

from resque_sim.scenario import (
    DEFAULT_REDIS_URL,
    BurstArrivals,
    ConstantArrivals,
    ConstantDist,
    DiurnalArrivals,
    EmpiricalDist,
    ExponentialDist,
    GammaDist,
    LognormalDist,
    PoissonArrivals,
    RampArrivals,
    RetryPolicy,
    Scenario,
    ScenarioError,
    SpikeArrivals,
    TraceArrivals,
    load_scenario,
    parse_duration,
    parse_rate,
    parse_scenario,
)

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"

# The DESIGN.md section 5 example, plus the second job its mix names.
SPIKE = """\
version: 1
name: spike
seed: 42
replications: 1
duration: 30m
warmup: 0s
backend: fake
arrivals:
  - name: web
    process: {type: spike, base: 5/s, peak: 20/s, start: 10m, duration: 60s}
    mix: {EmailJob: 0.7, Thumbnail: 0.3}
jobs:
  EmailJob:
    queue: email
    duration: {dist: lognormal, median: 0.5s, p99: 6s}
    failure:
      probability: 0.02
      exceptions: {TimeoutError: 1.0}
      retry: {max: 3, backoff: exponential, base: 15s}
    memory: {working_set_mb: {dist: constant, value: 20}, leak_mb: 0.1}
  Thumbnail:
    queue: thumbs
    duration: {dist: gamma, mean: 2s, cv: 0.5}
workers:
  - pool: default
    count: 16
    queues: [critical, email, "*"]
    interval: 5s
    fork_per_job: true
    memory: {base_mb: 120, retention: 0.7, oom_limit_mb: 1024}
    restart: {max_jobs: 1000, max_rss_mb: 900, boot_time: 10s}
slo:
  - {metric: wait, queue: email, percentile: 99, max: 30s}
  - {metric: failure_rate, max: 0.05}
sweep: {param: workers.default.count, values: [8, 12, 16, 24, 32]}
"""

MINIMAL = """\
duration: 10m
arrivals:
  - process: {type: poisson, rate: 2/s}
jobs:
  EmailJob: {queue: email, duration: {dist: exponential, mean: 1s}}
"""


def write(folder: Path, text: str, name: str = "spike.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def spike_file(tmp_path: Path) -> Path:
    return write(tmp_path, SPIKE)


@pytest.fixture
def minimal_file(tmp_path: Path) -> Path:
    return write(tmp_path, MINIMAL, "minimal.yaml")


def error_text(path: Path, *overrides: str) -> str:
    """The message load_scenario gives, with the temporary folder cut off the file name."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return str(caught.value).replace(f"{path.parent}/", "")


# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("0.5s", 0.5),
        ("60s", 60.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("45", 45.0),
        (45, 45.0),
        (1.5, 1.5),
        (" 10 m ", 600.0),
        ("1e3s", 1000.0),
        (".5s", 0.5),
    ],
)
def test_durations_take_ms_s_m_h_d_or_bare_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 minutes", "-1s", "1w", "", None, True, -3, math.inf, [1]])
def test_anything_else_is_not_a_duration(text: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("5/s", 5.0), ("300/m", 5.0), ("3600/h", 1.0), ("0.5 / s", 0.5), (5, 5.0), (0.5, 0.5)],
)
def test_rates_take_per_second_minute_hour_or_bare_per_second(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["5/sec", "5", "5/d", "-1/s", -1, True, None])
def test_anything_else_is_not_a_rate(text: object) -> None:
    with pytest.raises(ValueError, match=r"is not a rate; use N/s, N/m or N/h"):
        parse_rate(text)


# --- the contract example ------------------------------------------------------------------------


def test_the_design_example_parses_into_seconds_rates_and_megabytes(spike_file: Path) -> None:
    scenario = load_scenario(spike_file)

    assert (scenario.name, scenario.seed, scenario.duration, scenario.backend) == (
        "spike",
        42,
        1800.0,
        "fake",
    )
    assert scenario.arrivals[0].process == SpikeArrivals(type="spike", base=5.0, peak=20.0, start=600.0, duration=60.0)
    email = scenario.jobs["EmailJob"]
    assert email.duration == LognormalDist(dist="lognormal", median=0.5, p99=6.0)
    assert email.failure.retry == RetryPolicy(max=3, backoff="exponential", base=15.0)
    assert email.memory.working_set_mb == ConstantDist(dist="constant", value=20.0)
    assert email.memory.leak_mb == 0.1
    pool = scenario.pool("default")
    assert (pool.count, pool.queues, pool.interval, pool.fork_per_job) == (
        16,
        ("critical", "email", "*"),
        5.0,
        True,
    )
    assert (pool.memory.base_mb, pool.memory.retention, pool.memory.oom_limit_mb) == (120.0, 0.7, 1024.0)
    assert (pool.restart.max_jobs, pool.restart.max_rss_mb, pool.restart.boot_time) == (1000, 900.0, 10.0)
    assert [(s.metric, s.queue, s.percentile, s.max) for s in scenario.slo] == [
        ("wait", "email", 99.0, 30.0),
        ("failure_rate", None, None, 0.05),
    ]
    assert scenario.sweep is not None
    assert scenario.sweep.values == (8, 12, 16, 24, 32)
    assert scenario.queues == ("email", "thumbs")
    assert scenario.source == str(spike_file)


def test_mix_and_exception_weights_are_normalised(spike_file: Path) -> None:
    scenario = load_scenario(
        spike_file,
        [
            "arrivals.web.mix={EmailJob: 7, Thumbnail: 3}",
            "jobs.EmailJob.failure.exceptions={TimeoutError: 1, DirtyExit: 3}",
        ],
    )

    assert dict(scenario.arrivals[0].mix or {}) == pytest.approx({"EmailJob": 0.7, "Thumbnail": 0.3})
    assert dict(scenario.jobs["EmailJob"].failure.exceptions) == {"TimeoutError": 0.25, "DirtyExit": 0.75}


# --- every arrival process and distribution ----------------------------------------------------------


@pytest.mark.parametrize(
    ("process", "expected"),
    [
        ("{type: constant, rate: 2/s}", ConstantArrivals(type="constant", rate=2.0)),
        ("{type: poisson, rate: 120/m}", PoissonArrivals(type="poisson", rate=2.0)),
        (
            "{type: spike, base: 1/s, peak: 3/s, start: 1m, duration: 30s}",
            SpikeArrivals(type="spike", base=1.0, peak=3.0, start=60.0, duration=30.0),
        ),
        (
            "{type: ramp, from: 1/s, to: 7200/h, start: 1m, duration: 2m}",
            RampArrivals.model_validate({"type": "ramp", "from": "1/s", "to": "2/s", "start": 60, "duration": 120}),
        ),
        (
            "{type: ramp, from: 1/s, to: 2/s, duration: 2m}",
            RampArrivals.model_validate({"type": "ramp", "from": "1/s", "to": "2/s", "start": 0, "duration": 120}),
        ),
        (
            "{type: diurnal, mean: 10/s, amplitude: 0.5, period: 1h, peak_at: 15m}",
            DiurnalArrivals(type="diurnal", mean=10.0, amplitude=0.5, period=3600.0, peak_at=900.0),
        ),
        (
            "{type: diurnal, mean: 10/s, amplitude: 50%}",
            DiurnalArrivals(type="diurnal", mean=10.0, amplitude=0.5, period=86400.0, peak_at=43200.0),
        ),
        (
            "{type: burst, at: 1m, every: 5m, size: 100}",
            BurstArrivals(type="burst", at=60.0, every=300.0, size=100),
        ),
        ("{type: burst, size: 100}", BurstArrivals(type="burst", at=0.0, every=None, size=100)),
    ],
)
def test_every_arrival_process_parses(minimal_file: Path, process: str, expected: object) -> None:
    scenario = load_scenario(minimal_file, [f"arrivals.0.process={process}"])

    assert scenario.arrivals[0].process == expected


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("{dist: exponential, mean: 500ms}", ExponentialDist(dist="exponential", mean=0.5)),
        ("{dist: constant, value: 2}", ConstantDist(dist="constant", value=2.0)),
        ("{dist: lognormal, median: 0.5s, p99: 1m}", LognormalDist(dist="lognormal", median=0.5, p99=60.0)),
        ("{dist: gamma, mean: 2s, cv: 0.25}", GammaDist(dist="gamma", mean=2.0, cv=0.25)),
    ],
)
def test_every_duration_distribution_parses_in_seconds(minimal_file: Path, duration: str, expected: object) -> None:
    scenario = load_scenario(minimal_file, [f"jobs.EmailJob.duration={duration}"])

    assert scenario.jobs["EmailJob"].duration == expected


def test_working_sets_are_distributions_of_megabytes(minimal_file: Path) -> None:
    scenario = load_scenario(
        minimal_file,
        ["jobs.EmailJob.memory={working_set_mb: {dist: lognormal, median: 40, p99: 400}, leak_mb: 0.5}"],
    )

    memory = scenario.jobs["EmailJob"].memory
    assert memory.working_set_mb == LognormalDist(dist="lognormal", median=40.0, p99=400.0)
    assert memory.leak_mb == 0.5


def test_empirical_durations_read_a_csv_next_to_the_scenario(minimal_file: Path) -> None:
    (minimal_file.parent / "runs.csv").write_text("job,run\na,0.5\nb,1.25\n", encoding="utf-8")

    scenario = load_scenario(minimal_file, ["jobs.EmailJob.duration={dist: empirical, csv: runs.csv, column: run}"])

    duration = scenario.jobs["EmailJob"].duration
    assert isinstance(duration, EmpiricalDist)
    assert duration.csv == minimal_file.parent / "runs.csv"
    assert duration.values().tolist() == [0.5, 1.25]


def test_a_trace_replays_times_and_classes_from_its_csv(minimal_file: Path) -> None:
    (minimal_file.parent / "trace.csv").write_text("t,klass\n0.5,EmailJob\n2,EmailJob\n", encoding="utf-8")

    scenario = load_scenario(
        minimal_file,
        ["arrivals.0={name: replay, process: {type: trace, csv: trace.csv, time_column: t, class_column: klass}}"],
    )

    stream = scenario.arrivals[0]
    assert isinstance(stream.process, TraceArrivals)
    assert stream.process.times().tolist() == [0.5, 2.0]
    assert stream.process.classes().tolist() == ["EmailJob", "EmailJob"]
    assert stream.classes_from_trace
    assert stream.mix is None


def test_slo_limits_take_the_unit_of_their_metric(minimal_file: Path) -> None:
    scenario = load_scenario(
        minimal_file,
        [
            "slo=[{metric: latency, percentile: 95, max: 2m}, "
            "{metric: failure_rate, queue: email, max: 5%}, "
            "{metric: max_depth, queue: email, max: 500}, "
            "{metric: utilization, max: 0.8}, {metric: peak_rss_mb, max: 900}]"
        ],
    )

    assert [slo.max for slo in scenario.slo] == [120.0, 0.05, 500, 0.8, 900.0]


def test_instant_workers_are_woken_on_enqueue(minimal_file: Path) -> None:
    scenario = load_scenario(minimal_file, ["workers=[{interval: instant}]"])

    assert scenario.workers[0].interval == "instant"


def test_queues_can_be_written_like_resque_queues_variable(minimal_file: Path) -> None:
    scenario = load_scenario(minimal_file, ["workers=[{queues: 'critical, email,*'}]"])

    assert scenario.workers[0].queues == ("critical", "email", "*")


def test_redis_backend_gets_a_default_url(minimal_file: Path) -> None:
    assert load_scenario(minimal_file, ["backend=redis"]).url == DEFAULT_REDIS_URL
    assert load_scenario(minimal_file, ["backend=redis", "url=redis://db:6380/2"]).url == "redis://db:6380/2"


# --- defaults ------------------------------------------------------------------------------------


def test_a_minimal_scenario_gets_the_documented_defaults(minimal_file: Path) -> None:
    scenario = load_scenario(minimal_file)

    assert (scenario.version, scenario.name, scenario.seed, scenario.replications) == (1, "minimal", 0, 1)
    assert (scenario.warmup, scenario.backend, scenario.url) == (0.0, "fake", None)
    assert (scenario.slo, scenario.sweep) == ((), None)
    stream = scenario.arrivals[0]
    assert (stream.name, dict(stream.mix or {})) == ("poisson", {"EmailJob": 1.0})
    job = scenario.jobs["EmailJob"]
    assert (job.failure.probability, dict(job.failure.exceptions), job.failure.retry) == (
        0.0,
        {"RuntimeError": 1.0},
        None,
    )
    assert (job.memory.working_set_mb, job.memory.leak_mb) == (ConstantDist(dist="constant", value=0.0), 0.0)
    assert job.max_attempts == 1
    (pool,) = scenario.workers
    assert (pool.pool, pool.count, pool.queues, pool.interval) == ("default", 1, ("*",), 5.0)
    assert (pool.fork_per_job, pool.fork_overhead) == (True, 0.0)
    assert (pool.memory.base_mb, pool.memory.retention, pool.memory.oom_limit_mb) == (50.0, 0.0, None)
    restart = pool.restart
    assert (
        restart.max_jobs,
        restart.max_jobs_jitter,
        restart.max_rss_mb,
        restart.max_age,
        restart.boot_time,
    ) == (None, 0, None, None, 0.0)


def test_retry_defaults_follow_resque_retry(minimal_file: Path) -> None:
    scenario = load_scenario(minimal_file, ["jobs.EmailJob.failure={probability: 0.1, retry: {}}"])

    assert scenario.jobs["EmailJob"].failure.retry == RetryPolicy(max=1, backoff="constant", base=0.0, jitter=0.0)
    assert scenario.jobs["EmailJob"].max_attempts == 2


def test_a_list_of_delays_allows_one_retry_per_delay(minimal_file: Path) -> None:
    scenario = load_scenario(minimal_file, ["jobs.EmailJob.failure={probability: 0.1, retry: {backoff: [10s, 1m]}}"])

    assert scenario.jobs["EmailJob"].failure.retry == RetryPolicy(max=2, backoff=(10.0, 60.0))


# --- retry delays ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("constant", [15.0, 15.0, 15.0]),
        ("linear", [15.0, 30.0, 45.0]),
        ("exponential", [15.0, 30.0, 60.0]),
        ((5.0, 50.0), [5.0, 50.0, 50.0]),
    ],
)
def test_retry_delays_follow_the_backoff(
    backoff: Literal["constant", "linear", "exponential"] | tuple[float, ...], delays: list[float]
) -> None:
    policy = RetryPolicy(max=3, backoff=backoff, base=15.0)

    assert [policy.delay(retry, jitter_draw=0.5) for retry in (1, 2, 3)] == delays


def test_jitter_spreads_a_delay_symmetrically() -> None:
    policy = RetryPolicy(max=1, backoff="constant", base=10.0, jitter=0.2)

    assert [policy.delay(1, jitter_draw=u) for u in (0.0, 0.5, 1.0)] == pytest.approx([8.0, 10.0, 12.0])


# --- overrides and sweeps ----------------------------------------------------------------------------


def test_overrides_are_parsed_as_yaml_and_applied_before_validation(spike_file: Path) -> None:
    scenario = load_scenario(spike_file, ["workers.default.count=24", "duration=10m", "seed=7"])

    assert (scenario.workers[0].count, scenario.duration, scenario.seed) == (24, 600.0, 7)


def test_overrides_address_list_items_by_index_or_name(spike_file: Path) -> None:
    by_index = load_scenario(spike_file, ["arrivals[0].process.peak=40/s"])
    by_name = load_scenario(spike_file, ["arrivals.web.process.peak=40/s"])

    assert by_index == by_name
    assert isinstance(by_name.arrivals[0].process, SpikeArrivals)
    assert by_name.arrivals[0].process.peak == 40.0


def test_overrides_can_fill_in_an_absent_section(minimal_file: Path) -> None:
    scenario = load_scenario(minimal_file, ["jobs.EmailJob.failure.probability=0.1"])

    assert scenario.jobs["EmailJob"].failure.probability == 0.1


def test_with_value_returns_a_revalidated_copy(spike_file: Path) -> None:
    scenario = load_scenario(spike_file)

    point = scenario.with_value("workers.default.count", 8)

    assert point.workers[0].count == 8
    assert scenario.workers[0].count == 16
    assert point.model_copy(update={"workers": scenario.workers}) == scenario
    assert point.source == scenario.source


def test_with_value_rejects_a_bad_value_naming_the_file_and_field(spike_file: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(spike_file).with_value("workers.default.count", 0)

    assert (caught.value.file, caught.value.path) == (str(spike_file), "workers[0].count")
    assert caught.value.message == "must be at least 1, got 0"


def test_dumping_and_parsing_again_gives_the_same_scenario(spike_file: Path) -> None:
    scenario = load_scenario(spike_file)

    assert parse_scenario(scenario.model_dump(mode="json", by_alias=True), source=str(spike_file)) == scenario


# --- frozen values -----------------------------------------------------------------------------------


def test_scenarios_cannot_be_changed_in_place(spike_file: Path) -> None:
    scenario = load_scenario(spike_file)

    with pytest.raises(pydantic.ValidationError, match="frozen"):
        scenario.seed = 1
    with pytest.raises(TypeError):
        scenario.jobs["Other"] = scenario.jobs["EmailJob"]  # type: ignore[index]
    with pytest.raises(TypeError):
        scenario.arrivals[0].mix["EmailJob"] = 1.0  # type: ignore[index]


def test_scenarios_pickle_for_worker_processes(spike_file: Path) -> None:
    scenario = load_scenario(spike_file)

    assert pickle.loads(pickle.dumps(scenario)) == scenario


# --- one clear line per mistake ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "arrivals.0.process.base=5/sec",
            'arrivals[0].process.base: "5/sec" is not a rate; use N/s, N/m or N/h',
        ),
        (
            "duration=ten minutes",
            'duration: "ten minutes" is not a duration; use a number with ms, s, m, h or d '
            "(e.g. 500ms, 30s, 10m), or a bare number of seconds",
        ),
        ("workers.default.cuont=3", 'workers[0].cuont: unknown field; did you mean "count"?'),
        ("workers.default.count=many", 'workers[0].count: expected a whole number, got "many"'),
        ("workers.default.count=0", "workers[0].count: must be at least 1, got 0"),
        (
            "arrivals.0.process.type=spiky",
            'arrivals[0].process.type: "spiky" is not a known type; use one of '
            "constant, poisson, spike, ramp, diurnal, burst, trace",
        ),
        (
            "arrivals.0.process={base: 1/s}",
            "arrivals[0].process.type: is required; use one of constant, poisson, spike, ramp, diurnal, burst, trace",
        ),
        ("arrivals.0.process.peak=", "arrivals[0].process.peak: null is not a rate; use N/s, N/m or N/h"),
        (
            "jobs.EmailJob.duration.dist=weibull",
            'jobs.EmailJob.duration.dist: "weibull" is not a known dist; use '
            "one of exponential, constant, lognormal, gamma, empirical",
        ),
        (
            "jobs.EmailJob.duration.median=fast",
            'jobs.EmailJob.duration.median: "fast" is not a duration; use a '
            "number with ms, s, m, h or d (e.g. 500ms, 30s, 10m), or a bare "
            "number of seconds",
        ),
        (
            "jobs.EmailJob.duration.p99=0.1s",
            "jobs.EmailJob.duration.p99: must be above the median (0.5), got 0.1",
        ),
        ("jobs.Thumbnail.duration.cv=0", "jobs.Thumbnail.duration.cv: must be above 0, got 0"),
        (
            "jobs.EmailJob.memory.working_set_mb.value=20MB",
            'jobs.EmailJob.memory.working_set_mb.value: "20MB" is not a size; use a non-negative number of megabytes',
        ),
        ("jobs.EmailJob.failure.probability=1.5", "jobs.EmailJob.failure.probability: 1.5 is outside 0..1"),
        (
            "jobs.EmailJob.failure.retry.backoff=[10s, soon]",
            'jobs.EmailJob.failure.retry.backoff[1]: "soon" is not '
            "a duration; use a number with ms, s, m, h or d (e.g. "
            "500ms, 30s, 10m), or a bare number of seconds",
        ),
        (
            "arrivals.0.mix.Newsletter=1",
            'arrivals[0].mix.Newsletter: "Newsletter" is not a job defined under jobs (EmailJob, Thumbnail)',
        ),
        ("arrivals.0.mix.EmailJob=0", "arrivals[0].mix.EmailJob: weight 0.0 must be positive"),
        ("arrivals.0.mix={}", "arrivals[0].mix: must name at least one entry with a positive weight"),
        ("slo.0.percentile=100", "slo[0].percentile: must be below 100, got 100"),
        ("slo.0.percentile=0", "slo[0].percentile: must be above 0, got 0"),
        ("slo.1.percentile=50", "slo[1].percentile: only applies to wait and latency, not failure_rate"),
        ("slo.0.queue=mail", 'slo[0].queue: no job uses queue "mail" (queues: email, thumbs)'),
        (
            "slo.0.metric=speed",
            "slo[0].metric: \"speed\" is not one of 'wait', 'latency', 'failure_rate', "
            "'max_depth', 'utilization' or 'peak_rss_mb'",
        ),
        ("sweep.param=workers.default.size", 'sweep.param: no field "workers.default.size" in this scenario'),
        (
            "sweep.param=workers.batch.count",
            'sweep.param: workers has no entry named "batch" (names: default)',
        ),
        (
            "sweep.values=[8, -1]",
            "sweep.values[1]: -1 does not fit workers.default.count: must be at least 1, got -1",
        ),
        ("warmup=1h", "warmup: must be shorter than duration (1800s)"),
        ("version=2", "version: unsupported scenario version 2; this simulator reads version 1"),
        ("backend=kafka", "backend: \"kafka\" is not one of 'fake', 'memory' or 'redis'"),
        ("url=redis://x", "url: only used by the redis backend, not fake"),
        (
            "workers.default.interval=0",
            "workers[0].interval: must be above 0 (Resque's INTERVAL=0 drains and "
            'exits); use "instant" for workers woken at once on enqueue',
        ),
        (
            "workers.default.queues=[critical]",
            'jobs.EmailJob.queue: no worker pool serves queue "email"; add it (or "*") to a pool\'s queues',
        ),
        (
            "workers.default.restart.max_rss_mb=100",
            "workers[0].restart.max_rss_mb: must be above memory.base_mb "
            "(120.0), or every job would restart the worker",
        ),
        (
            "workers=[{pool: a}, {pool: a}]",
            'workers[1].pool: "a" is used twice; give each entry its own pool',
        ),
        ("arrivals=[]", "arrivals: must not be empty"),
    ],
)
def test_each_mistake_gives_one_line_naming_file_field_and_fix(spike_file: Path, override: str, message: str) -> None:
    assert error_text(spike_file, override) == f"spike.yaml: {message}"


def test_a_stream_must_say_which_jobs_it_creates_when_there_are_several(spike_file: Path) -> None:
    text = SPIKE.replace("    mix: {EmailJob: 0.7, Thumbnail: 0.3}\n", "")

    assert error_text(write(spike_file.parent, text)) == (
        "spike.yaml: arrivals[0].mix: is required when several jobs are defined, e.g. {EmailJob: 1, Thumbnail: 1}"
    )


def test_every_problem_gets_its_own_line(spike_file: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(spike_file, ["seed=-1", "replications=0"])

    assert caught.value.problems == (
        ("seed", "must be at least 0, got -1"),
        ("replications", "must be at least 1, got 0"),
    )
    assert str(caught.value).count("\n") == 1


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "duration: 10m\narrivals:\n  - process: {type: poisson, rate: 2/s\n", "broken.yaml")

    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)

    assert caught.value.line == 4
    assert str(caught.value).endswith(
        "broken.yaml: line 4, column 1: invalid YAML: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping at line 3)"
    )


def test_duplicate_keys_are_an_error_not_silently_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "duration: 5m\n", "twice.yaml")

    assert error_text(path) == 'twice.yaml: line 6, column 1: invalid YAML: duplicate key "duration"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a mapping of scenario fields (version, name, ...), got an empty file"),
        ("- a\n- b\n", 'expected a mapping of scenario fields (version, name, ...), got ["a", "b"]'),
    ],
)
def test_the_top_level_must_be_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    assert error_text(write(tmp_path, text, "odd.yaml")) == f"odd.yaml: {message}"


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    assert error_text(tmp_path / "nope.yaml") == "nope.yaml: cannot read the file: No such file or directory"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "workers.default.count",
            '--set "workers.default.count" must look like path=value, e.g. workers.default.count=24',
        ),
        (
            "workers.batch.count=2",
            'workers.batch.count: --set: workers has no entry named "batch" (names: default)',
        ),
        ("arrivals.3.mix={}", "arrivals.3.mix: --set: arrivals has 1 entries, so there is no entry 3"),
        ("name.first=x", 'name.first: --set: name is "spike", which has no field "first"'),
        ("seed=[1", 'seed: --set value "[1" is not valid YAML'),
    ],
)
def test_bad_overrides_name_the_override(spike_file: Path, override: str, message: str) -> None:
    assert error_text(spike_file, override) == f"spike.yaml: {message}"


@pytest.mark.parametrize(
    ("csv_text", "column", "message"),
    [
        (None, "run", "jobs.EmailJob.duration.csv: cannot read runs.csv: No such file or directory"),
        ("run\n0.5\n", "time", 'jobs.EmailJob.duration.column: runs.csv has no column "time" (columns: run)'),
        (
            "run\n0.5\nslow\n",
            "run",
            'jobs.EmailJob.duration.column: runs.csv row 3: "slow" is not a non-negative number',
        ),
        ("run\n", "run", "jobs.EmailJob.duration.column: runs.csv has no rows"),
    ],
)
def test_csv_problems_point_at_the_file_or_the_column(
    minimal_file: Path, csv_text: str | None, column: str, message: str
) -> None:
    if csv_text is not None:
        (minimal_file.parent / "runs.csv").write_text(csv_text, encoding="utf-8")

    text = error_text(minimal_file, f"jobs.EmailJob.duration={{dist: empirical, csv: runs.csv, column: {column}}}")

    assert text == f"minimal.yaml: {message}"


def test_trace_classes_must_be_defined_jobs(minimal_file: Path) -> None:
    (minimal_file.parent / "trace.csv").write_text("time,class\n1,EmailJob\n2,Report\n", encoding="utf-8")

    text = error_text(minimal_file, "arrivals.0.process={type: trace, csv: trace.csv, class_column: class}")

    assert text == (
        'minimal.yaml: arrivals[0].process.class_column: trace.csv row 3 names "Report", which is not '
        "a job defined under jobs (EmailJob)"
    )


# --- the shipped scenarios -----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.glob("*.yaml")), ids=lambda path: path.name)
def test_every_shipped_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)

    assert isinstance(scenario, Scenario)
    assert scenario.name == path.stem


def test_the_five_scenarios_are_shipped() -> None:
    names = {path.stem for path in SCENARIOS_DIR.glob("*.yaml")}

    assert names >= {"spike", "steady", "nightly-batch", "diurnal", "memory-leak"}
