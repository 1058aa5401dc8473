"""``resque-sim --live URL --attach`` measuring a real Ruby Resque 3.0 worker that requires the probe file
``resque-sim --ruby-probe`` names: the Ruby twin of the probe job runs the simulation's jobs and its records
line up with them.

Needs Ruby Resque (see tests/ruby.py: ``RESQUE_RUBY_LIB``); skips without it, and fails in CI.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from resque_impl.testing import RedisServer
from resque_sim.engine import Backend, simulate
from resque_sim.live.probe import ruby_probe_path
from resque_sim.live.runner import LiveOptions, run_live
from resque_sim.metrics import jobs_frame
from resque_sim.scenario import parse_scenario
from tests.resque_sim.live.helpers import live_scenario
from tests.ruby import RubyResque

pytestmark = pytest.mark.ruby

SPEED = 2.0


@pytest.fixture
def ruby_worker(redis_server: RedisServer, client: redis.Redis) -> Iterator[subprocess.Popen[str]]:
    """A forking Ruby Resque worker on every queue, polling every 0.1 s, with the probe file required."""
    ruby = RubyResque.find(redis_server.url)
    worker = ruby.start(f'require {ruby_probe_path()!r}\nResque::Worker.new("*").work(0.1)\n')
    deadline = time.monotonic() + 30
    while client.scard("resque:workers") < 1:
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the Ruby worker did not register"
        time.sleep(0.05)
    yield worker
    worker.send_signal(signal.SIGQUIT)
    try:
        worker.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()


def test_a_ruby_worker_replays_the_simulations_jobs(
    redis_server: RedisServer, client: redis.Redis, ruby_worker: subprocess.Popen[str]
) -> None:
    scenario = parse_scenario(live_scenario(2.0))

    outcome = run_live(scenario, LiveOptions(redis_server.url, attach=True, speed=SPEED))

    record = outcome.result.base.record
    assert record is not None
    live = jobs_frame(record)
    simulated = jobs_frame(simulate(scenario, backend=Backend("memory")))
    assert live["id"].tolist() == simulated["id"].tolist()
    assert live["outcome"].astype(str).tolist() == simulated["outcome"].astype(str).tolist()
    assert (live["run"] >= simulated["run"] - 1e-5 * SPEED).all()
    assert [name.rsplit(":", 1)[1] for name in record.workers] == [str(ruby_worker.pid)]
    failed = int((simulated["outcome"].astype(str) == "failed").sum())
    assert client.llen("resque:failed") == failed  # Ruby recorded the drawn failures itself
    assert client.keys("resque:resque-sim:*") == []
