"""A Python worker with ``--concurrency N`` seen by the real Ruby Resque 3.0: N live workers, each with
its job, none pruned while the process lives, all pruned once it is gone.

These need Ruby Resque (see tests/ruby.py: ``RESQUE_RUBY_LIB``); they skip without it, and fail in CI.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import redis

from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.worker.slots import slot_id
from tests.resque_impl.worker.test_processes import WorkerProcess, lines, wait_for
from tests.ruby import RubyResque
from tests.worker_jobs import ProcSteps

pytestmark = pytest.mark.ruby

SLOTS = 3

# Ruby's view of the workers after two prunes, by a worker of our queues and by a '*' worker (which
# checks every worker on this host); the pruning lock our workers hold is dropped first, each time.
RUBY_VIEW = """
["proc", "*"].each do |queues|
  Resque.redis.del("pruning_dead_workers_in_progress")
  Resque::Worker.new(queues).prune_dead_workers
end
puts JSON.generate(Resque.workers.sort_by(&:to_s).map { |w|
  found = Resque::Worker.find(w.to_s)
  host, pid, queues = w.to_s.split(":")
  [w.to_s, found.hostname, found.pid, found.queues, queues.split(","), host, pid,
   found.job["payload"] && found.job["payload"]["class"], found.state.to_s]
})
"""


def test_ruby_sees_every_slot_as_a_live_worker_and_prunes_them_only_when_the_process_died(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis, tmp_path: Path
) -> None:
    resque = Resque(client)
    notes = tmp_path / "notes"
    for n in range(SLOTS):
        resque.enqueue(ProcSteps, str(notes), str(n), 60)
    worker = WorkerProcess(redis_server.url, tmp_path, "--concurrency", str(SLOTS))
    try:
        wait_for(lambda: sum(line.startswith("start") for line in lines(notes)) == SLOTS, "every slot's job")
        host, pid = socket.gethostname(), worker.pid
        ids = sorted(slot_id(f"{host}:{pid}:proc", slot) for slot in range(SLOTS))
        seen = json.loads(ruby.run(RUBY_VIEW))
        assert seen == [[i, host, pid, ["proc"], ["proc"], host, str(pid), "ProcSteps", "working"] for i in ids]
    finally:
        worker.kill_group()
    assert json.loads(ruby.run(RUBY_VIEW)) == []
    assert resque.workers() == []


# Ruby's view of each namespace's workers after a prune there (its pruning lock dropped first).
RUBY_NAMESPACES_VIEW = """
puts JSON.generate(["app-a", "app-b"].map { |namespace|
  Resque.redis.namespace = namespace
  Resque.redis.del("pruning_dead_workers_in_progress")
  Resque::Worker.new("proc").prune_dead_workers
  [namespace, Resque.workers.map { |w| [w.to_s, w.job["payload"] && w.job["payload"]["args"][1]] }]
})
"""


def test_ruby_sees_a_worker_in_each_namespace_a_process_serves_and_prunes_them_once_it_is_gone(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    for namespace in ("app-a", "app-b"):
        Resque(client, namespace=namespace).enqueue(ProcSteps, str(notes), namespace, 60)
    worker = WorkerProcess(redis_server.url, tmp_path, "--namespace", "app-a", "--namespace", "app-b")
    try:
        wait_for(lambda: sum(line.startswith("start") for line in lines(notes)) == 2, "each namespace's job")
        worker_id = f"{socket.gethostname()}:{worker.pid}:proc"
        assert json.loads(ruby.run(RUBY_NAMESPACES_VIEW)) == [
            ["app-a", [[worker_id, "app-a"]]],
            ["app-b", [[worker_id, "app-b"]]],
        ]
    finally:
        worker.kill_group()
    assert json.loads(ruby.run(RUBY_NAMESPACES_VIEW)) == [["app-a", []], ["app-b", []]]
