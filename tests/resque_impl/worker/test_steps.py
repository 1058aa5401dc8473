"""The worker's steps, driven one at a time on fakeredis, a real redis-server and the in-memory twin."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import pytest

from resque_impl import DirtyExit, DontPerform, ManualClock, Registry, Resque, job
from resque_impl.clock import format_heartbeat, format_run_at
from resque_impl.store.fetch import encode_working_on
from resque_impl.store.memory import MemoryStore
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerOptions
from resque_impl.worker.outcome import ReservedJob
from resque_impl.worker.pruning import heartbeat_epoch
from tests.conftest import snapshot

registry = Registry()


@job(queue="email", registry=registry, name="StepMail")
class StepMail:
    performed: ClassVar[list[tuple[Any, ...]]] = []

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.performed.append(args)


class StepBoomError(Exception):
    pass


@job(queue="critical", registry=registry, name="StepBoom")
class StepBoom:
    failures: ClassVar[list[str]] = []

    @staticmethod
    def perform(*args: Any) -> None:
        raise StepBoomError("kaboom")

    @classmethod
    def on_failure_note(cls, error: BaseException, *args: Any) -> None:
        cls.failures.append(type(error).__name__)


@job(queue="email", registry=registry, name="StepSkip")
class StepSkip:
    @staticmethod
    def before_perform_veto(*args: Any) -> None:
        raise DontPerform

    @staticmethod
    def perform(*args: Any) -> None:
        raise AssertionError("never runs")


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    return Resque(store=store, clock=clock, registry=registry)


def make_worker(resque: Resque, queues: Any = ("critical", "email"), **options: Any) -> Worker:
    return Worker(
        list(queues),
        resque=resque,
        options=WorkerOptions(**options),
        hostname="host",
        pid=1,
        local_pids=set,
    )


def drop_pruning_lock(store: Any) -> None:
    """The lock expires after a heartbeat interval; tests that prune repeatedly drop it instead."""
    if isinstance(store, MemoryStore):
        store.strings.pop(store.keys.pruning_lock, None)
    else:
        store.client.delete(store.keys.pruning_lock)


def failures(resque: Resque) -> list[dict[str, Any]]:
    return [record.data for record in resque.failures.all()]


def test_id_is_host_pid_and_patterns_without_exclusions(resque: Resque) -> None:
    assert make_worker(resque, ["high", "*", "!low"]).id == "host:1:high,*"


def test_register_heartbeat_unregister_leave_nothing_behind(resque: Resque, store: Any) -> None:
    worker = make_worker(resque)
    worker.register()
    worker.heartbeat()
    keys = snapshot(store)
    assert keys["resque:workers"]["value"] == ["host:1:critical,email"]
    assert keys["resque:worker:host:1:critical,email:started"]["value"] == "2026-11-27 23:43:29 +0000"
    assert keys["resque:workers:heartbeat"]["value"] == {"host:1:critical,email": "2026-11-27T23:43:29+00:00"}
    worker.unregister()
    assert snapshot(store) == {}


def test_reserve_follows_priority_and_restarts_from_the_first_queue(resque: Resque) -> None:
    resque.enqueue_to("email", StepMail, 1)
    resque.enqueue_to("email", StepMail, 2)
    resque.enqueue_to("critical", StepMail, 3)
    worker = make_worker(resque)
    first = worker.reserve()
    assert first is not None
    assert (first.queue, first.args) == ("critical", [3])
    resque.enqueue_to("critical", StepMail, 4)
    second = worker.done(first, worker.perform(first), reserve_next=True)
    assert second is not None
    assert (second.queue, second.args) == ("critical", [4])
    order = [second.args[0]]
    job_ = worker.done(second, worker.perform(second), reserve_next=True)
    while job_ is not None:
        order.append(job_.args[0])
        job_ = worker.done(job_, worker.perform(job_), reserve_next=True)
    assert order == [4, 1, 2]


def test_the_in_flight_set_names_exactly_the_queues_a_worker_holds_jobs_from(resque: Resque, store: Any) -> None:
    def held() -> list[str] | None:
        keys = snapshot(store)
        entry = keys.get(f"resque:inflight:{worker.id}")
        return None if entry is None else entry["value"]

    resque.enqueue_to("critical", StepMail, 1)
    resque.enqueue_to("critical", StepMail, 2)
    resque.enqueue_to("email", StepMail, 3)
    worker = make_worker(resque)
    first = worker.reserve()
    assert first is not None
    assert held() == ["critical"]
    same_queue = worker.done(first, worker.perform(first), reserve_next=True)
    assert same_queue is not None
    assert (same_queue.queue, held()) == ("critical", ["critical"])
    other_queue = worker.done(same_queue, worker.perform(same_queue), reserve_next=True)
    assert other_queue is not None
    assert (other_queue.queue, held()) == ("email", ["email"])
    assert worker.done(other_queue, worker.perform(other_queue), reserve_next=True) is None
    assert held() is None
    assert store.inflight(worker.id) == []


def test_wildcards_are_expanded_on_each_reserve(resque: Resque) -> None:
    worker = make_worker(resque, ["b*", "*"])
    assert worker.reserve() is None
    resque.enqueue_to("alpha", StepMail, "a")
    resque.enqueue_to("beta", StepMail, "b")
    reserved = worker.reserve()
    assert reserved is not None
    assert reserved.queue == "beta"


def test_a_queue_created_while_a_wildcard_worker_is_busy_is_served_next_in_its_order(resque: Resque) -> None:
    resque.enqueue_to("mail", StepMail, 1)
    resque.enqueue_to("mail", StepMail, 2)
    worker = make_worker(resque, ["*"])
    first = worker.reserve()
    assert first is not None
    resque.enqueue_to("audit", StepMail, 3)  # a new queue, sorting before "mail"
    second = worker.done(first, worker.perform(first), reserve_next=True)
    assert second is not None
    assert (second.queue, second.args) == ("audit", [3])
    resque.remove_queue("audit")
    third = worker.done(second, worker.perform(second), reserve_next=True)
    assert third is not None
    assert (third.queue, third.args) == ("mail", [2])
    assert worker.processed == 2


def test_a_fetch_expanded_from_an_outdated_queue_set_pops_nothing_and_returns_the_set(store: Any) -> None:
    store.push("mail", b'{"class":"StepMail","args":[1]}')
    store.push("audit", b'{"class":"StepMail","args":[2]}')
    fetched = store.fetch("host:1:*", ["mail"], "2026-11-27T23:43:29Z", queue_set=["mail"])
    assert (fetched.state, fetched.queue_set) == ("stale", ("audit", "mail"))
    assert store.queue_sizes(["audit", "mail"]) == {"audit": 1, "mail": 1}
    assert store.working_on(["host:1:*"]) == {"host:1:*": None}


@pytest.mark.parametrize("names", [["1:a", "a"], ["é", "e", "z"], ["a b", "a", "ab:"]])
def test_a_wildcard_worker_takes_jobs_whatever_its_queue_names_look_like(resque: Resque, names: list[str]) -> None:
    for number, name in enumerate(names):
        resque.enqueue_to(name, StepMail, number)
    worker = make_worker(resque, ["*"])
    taken = []
    job_ = worker.reserve()
    while job_ is not None:
        taken.append(job_.queue)
        job_ = worker.done(job_, worker.perform(job_), reserve_next=True)
    assert taken == sorted(names)


def test_a_busy_wildcard_worker_makes_one_round_trip_per_job(private_redis_server: RedisServer) -> None:
    client = private_redis_server.client(socket_timeout=5)
    resque = Resque(client, registry=registry)
    for number in range(11):
        resque.enqueue_to("mail", StepMail, number)
    worker = make_worker(resque, ["critical", "*"])
    job_ = worker.reserve()

    def reads() -> int:  # requests the server read, this INFO included
        return int(client.info("stats")["total_reads_processed"])

    before = reads()
    for _ in range(10):
        assert job_ is not None
        job_ = worker.done(job_, worker.perform(job_), reserve_next=True)
    assert reads() - before == 10 + 1


def test_reliable_reserve_holds_the_job_in_flight_with_a_working_on_record(resque: Resque, store: Any) -> None:
    resque.enqueue(StepMail, 5, "x")
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    keys = snapshot(store)
    raw = '{"class":"StepMail","args":[5,"x"]}'
    assert keys["{resque:queue:email}:inflight:host:1:critical,email"] == {"type": "list", "value": [raw]}
    assert keys["resque:inflight:host:1:critical,email"] == {"type": "set", "value": ["email"]}
    record = keys["resque:worker:host:1:critical,email"]["value"]
    assert record == '{"queue":"email","run_at":"2026-11-27T23:43:29Z","payload":' + raw + "}"
    assert "resque:queue:email" not in keys


def test_acknowledging_counts_and_clears_every_extension_key(resque: Resque, store: Any) -> None:
    resque.enqueue(StepMail, 1)
    worker = make_worker(resque)
    worker.register()
    reserved = worker.reserve()
    assert reserved is not None
    worker.done(reserved, worker.perform(reserved))
    assert snapshot(store) == {
        "resque:queues": {"type": "set", "value": ["email"]},
        "resque:stat:processed": {"type": "string", "value": "1"},
        "resque:stat:processed:host:1:critical,email": {"type": "string", "value": "1"},
        "resque:worker:host:1:critical,email:started": {"type": "string", "value": "2026-11-27 23:43:29 +0000"},
        "resque:workers": {"type": "set", "value": ["host:1:critical,email"]},
    }
    assert (worker.processed, worker.failed) == (1, 0)


def test_plain_lpop_mode_keeps_no_in_flight_copy(resque: Resque, store: Any) -> None:
    resque.enqueue(StepMail, 1)
    worker = make_worker(resque, reliable=False)
    assert worker.reserve() is not None
    assert not [key for key in snapshot(store) if "inflight" in key]


def test_a_raising_job_becomes_a_failure_record_after_its_hooks(resque: Resque, store: Any) -> None:
    StepBoom.failures.clear()
    resque.enqueue(StepBoom, 7)
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    outcome = worker.perform(reserved)
    assert (outcome.status, outcome.exception, outcome.error) == ("failed", "StepBoomError", "kaboom")
    worker.done(reserved, outcome)
    assert StepBoom.failures == ["StepBoomError"]
    [record] = failures(resque)
    assert record["payload"] == {"class": "StepBoom", "args": [7]}
    assert (record["worker"], record["queue"]) == ("host:1:critical,email", "critical")
    assert re.fullmatch(r".*test_steps.py:\d+:in `perform'", record["backtrace"][0])
    assert (store.stat("processed"), store.stat("failed")) == (1, 1)


def test_dont_perform_skips_quietly_but_counts_as_processed(resque: Resque, store: Any) -> None:
    resque.enqueue(StepSkip)
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    outcome = worker.perform(reserved)
    assert outcome.status == "skipped"
    worker.done(reserved, outcome)
    assert (store.stat("processed"), store.stat("failed"), failures(resque)) == (1, 0, [])


@pytest.mark.parametrize(
    ("raw", "exception", "kept"),
    [
        (b"not json at all", "PayloadDecodeError", "not json at all"),
        (b'{"args":[1]}', "PayloadDecodeError", '{"args":[1]}'),
        (b'["a","list"]', "PayloadDecodeError", '["a","list"]'),
        (b'{"class":"Nobody::Knows","args":[1]}', "NameError", {"class": "Nobody::Knows", "args": [1]}),
    ],
)
def test_bad_payloads_become_failure_records_keeping_the_bytes(
    resque: Resque, store: Any, raw: bytes, exception: str, kept: Any
) -> None:
    store.push("critical", raw)
    resque.enqueue(StepMail, "after")
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    nxt = worker.done(reserved, worker.perform(reserved), reserve_next=True)
    assert nxt is not None
    assert nxt.args == ["after"]
    [record] = failures(resque)
    assert (record["exception"], record["payload"]) == (exception, kept)
    working = json.loads(store.working_on([worker.id])[worker.id])
    assert working["payload"] == {"class": "StepMail", "args": ["after"]}


def test_a_huge_unreadable_payload_is_kept_cut_to_64_kb(resque: Resque, store: Any) -> None:
    store.push("critical", b"x" * 100_000)
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    worker.done(reserved, worker.perform(reserved))
    assert failures(resque)[0]["payload"] == "x" * 65536


def test_an_unknown_class_with_a_payload_over_64_kb_is_kept_as_its_first_64_kb(resque: Resque, store: Any) -> None:
    raw = b'{"class":"Nobody::Knows","args":["' + b"x" * 100_000 + b'"]}'
    store.push("critical", raw)
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    worker.done(reserved, worker.perform(reserved))
    [record] = failures(resque)
    assert (record["exception"], record["payload"]) == ("NameError", raw[:65536].decode())


@pytest.mark.parametrize(
    "raw",
    [
        b'{"class":"Lone","args":["\\ud800"]}',  # a lone surrogate: not UTF-8 once decoded
        b'{"class":"Huge","args":[1e999]}',  # a float overflowing to infinity
        b'{"class":"Deep","args":' + b"[" * 150 + b"]" * 150 + b"}",  # deeper than Ruby reads
    ],
)
def test_a_payload_json_cannot_write_back_is_recorded_as_its_text(resque: Resque, store: Any, raw: bytes) -> None:
    store.push("critical", raw)
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    worker.done(reserved, worker.perform(reserved))
    [record] = failures(resque)
    assert (record["exception"], record["payload"]) == ("NameError", raw.decode())


def test_a_payload_over_the_size_limit_is_taken_as_its_head_only(resque: Resque, store: Any) -> None:
    limited = Resque(store=store, clock=resque.clock, registry=registry, max_payload_bytes=100_000)
    store.push("critical", b'{"class":"StepMail","args":["' + b"x" * 200_000 + b'"]}')
    worker = make_worker(limited)
    reserved = worker.reserve()
    assert reserved is not None
    assert len(reserved.raw) == 65536
    assert store.inflight(worker.id) == [("critical", reserved.raw)]
    assert json.loads(store.working_on([worker.id])[worker.id])["payload"] == reserved.raw.decode()
    worker.done(reserved, worker.perform(reserved))
    [record] = failures(limited)
    assert record["exception"] == "PayloadDecodeError"
    assert record["error"] == (
        "payload is 200,032 bytes, over this worker's 100,000-byte limit (Resque(max_payload_bytes=...)); "
        "only its first 65,536 bytes were kept"
    )
    assert store.inflight(worker.id) == []


def test_working_on_record_stays_json_for_unreadable_payloads(resque: Resque, store: Any) -> None:
    store.push("critical", b'{broken "json\n')
    worker = make_worker(resque)
    assert worker.reserve() is not None
    assert json.loads(store.working_on([worker.id])[worker.id])["payload"] == '{broken "json\n'


def test_pause_all_workers_key_stops_reserving(resque: Resque, store: Any) -> None:
    resque.enqueue(StepMail, 1)
    if isinstance(store, MemoryStore):
        store.strings[store.keys.pause_all] = b" TRUE "
    else:
        store.client.set(store.keys.pause_all, " TRUE ")
    worker = make_worker(resque)
    assert worker.reserve() is None
    assert worker.paused_by_key
    assert resque.size("email") == 1


def test_release_puts_an_unstarted_job_back_at_the_head(resque: Resque, store: Any) -> None:
    resque.enqueue(StepMail, 1)
    resque.enqueue(StepMail, 2)
    worker = make_worker(resque)
    reserved = worker.reserve()
    assert reserved is not None
    worker.release(reserved)
    assert [job_.args for job_ in resque.peek("email", 0, 5)] == [[1], [2]]
    assert not [key for key in snapshot(store) if "inflight" in key or key.startswith("resque:worker:")]


def test_adopt_takes_back_a_job_whose_reply_was_lost(resque: Resque, store: Any) -> None:
    resque.enqueue(StepMail, 1)
    worker = make_worker(resque)
    store.fetch(worker.id, ["email"], "2026-11-27T23:43:29Z")  # as if the reply never arrived
    store.set_working_on(worker.id, b"")
    adopted = worker.adopt()
    assert adopted is not None
    assert adopted.args == [1]
    assert json.loads(store.working_on([worker.id])[worker.id])["queue"] == "email"
    assert worker.adopt() is not None  # still held until acknowledged
    worker.done(adopted, worker.perform(adopted))
    assert worker.adopt() is None


def test_adopt_gives_back_to_the_queue_every_other_job_a_repeated_reserve_left_in_flight(
    resque: Resque, store: Any
) -> None:
    for n in (1, 2, 3, 4):
        resque.enqueue(StepMail, n)
    worker = make_worker(resque)
    for _ in range(3):  # as if each reserve's reply was lost and the reserve sent again
        store.fetch(worker.id, ["email"], "2026-11-27T23:43:29Z")
    adopted = worker.adopt()
    assert adopted is not None
    assert adopted.args == [1]
    assert [json.loads(payload)["args"] for _, payload in store.inflight(worker.id)] == [[1]]
    assert [job_.args for job_ in resque.peek("email", 0, 5)] == [[2], [3], [4]]


def test_pruning_recovers_a_dead_workers_job_to_the_head_of_its_queue(
    resque: Resque, store: Any, clock: ManualClock
) -> None:
    resque.enqueue(StepMail, "in flight")
    resque.enqueue(StepMail, "waiting")
    dead = make_worker(resque)
    dead.register()
    dead.heartbeat()
    assert dead.reserve() is not None
    clock.advance(301)
    pruner = Worker(["email"], resque=resque, hostname="elsewhere", pid=2)
    assert pruner.prune_dead_workers() == [dead.id]
    assert [job_.args for job_ in resque.peek("email", 0, 5)] == [["in flight"], ["waiting"]]
    assert failures(resque) == []
    keys = snapshot(store)
    assert keys["resque:inflight:recoveries"]["value"] == {'{"class":"StepMail","args":["in flight"]}': "1"}
    assert [key for key in keys if dead.id in key] == []


def test_a_job_recovered_three_times_is_poison_the_fourth(resque: Resque, store: Any, clock: ManualClock) -> None:
    StepBoom.failures.clear()
    resque.enqueue(StepBoom, "poison")
    for attempt in range(4):
        victim = Worker(["critical"], resque=resque, hostname="h", pid=100 + attempt)
        victim.register()
        victim.heartbeat()
        reserved = victim.reserve()
        assert reserved is not None, f"attempt {attempt}: the job should be back on its queue"
        clock.advance(301)
        drop_pruning_lock(store)
        pruner = Worker(["critical"], resque=resque, hostname="other", pid=1)
        assert pruner.prune_dead_workers() == [victim.id]
    assert resque.size("critical") == 0
    [record] = failures(resque)
    assert record["exception"] == "Resque::PoisonJobError"
    assert record["payload"] == {"class": "StepBoom", "args": ["poison"]}
    assert record["worker"] == "h:103:critical"
    assert StepBoom.failures == ["PoisonJobError"]
    assert snapshot(store).keys() == {"resque:failed", "resque:pruning_dead_workers_in_progress", "resque:queues"}


def test_a_finished_job_forgets_its_recovery_count(resque: Resque, store: Any, clock: ManualClock) -> None:
    resque.enqueue(StepMail, 1)
    dead = make_worker(resque)
    dead.register()
    dead.heartbeat()
    dead.reserve()
    clock.advance(301)
    Worker(["email"], resque=resque, hostname="x", pid=2).prune_dead_workers()
    survivor = Worker(["email"], resque=resque, hostname="x", pid=3)
    reserved = survivor.reserve()
    assert reserved is not None
    survivor.done(reserved, survivor.perform(reserved))
    assert "resque:inflight:recoveries" not in snapshot(store)


def test_pruning_a_busy_worker_without_in_flight_jobs_fails_its_job_like_ruby(
    resque: Resque, clock: ManualClock
) -> None:
    resque.enqueue(StepMail, 1)
    ruby_like = make_worker(resque, reliable=False)
    ruby_like.register()
    ruby_like.heartbeat()
    assert ruby_like.reserve() is not None
    clock.advance(301)
    Worker(["*"], resque=resque, hostname="x", pid=2).prune_dead_workers()
    [record] = failures(resque)
    assert record["exception"] == "Resque::PruneDeadWorkerDirtyExit"
    assert record["error"] == f"Worker {ruby_like.id} did not gracefully exit while processing StepMail"
    assert resque.workers() == []


def test_pruning_spares_fresh_heartbeats_and_workers_without_one(resque: Resque, clock: ManualClock) -> None:
    fresh = Worker(["q"], resque=resque, hostname="far", pid=1)
    fresh.register()
    fresh.heartbeat()
    silent = Worker(["q"], resque=resque, hostname="far", pid=2)
    silent.register()
    clock.advance(299)
    assert Worker(["q"], resque=resque, hostname="me", pid=3).prune_dead_workers() == []
    assert resque.workers() == sorted([fresh.id, silent.id])


def test_pruning_removes_same_host_workers_whose_process_is_gone(resque: Resque) -> None:
    gone = Worker(["a", "b"], resque=resque, hostname="box", pid=41)
    alive = Worker(["a", "b"], resque=resque, hostname="box", pid=42)
    other_queues = Worker(["c"], resque=resque, hostname="box", pid=43)
    for worker in (gone, alive, other_queues):
        worker.register()
        worker.heartbeat()
    pruner = Worker(["b", "a"], resque=resque, hostname="box", pid=44, local_pids=lambda: {"42", "44"})
    assert pruner.prune_dead_workers() == [gone.id]
    assert resque.workers() == sorted([alive.id, other_queues.id])


def test_a_stale_heartbeat_of_a_worker_not_registered_is_removed_like_ruby(
    resque: Resque, store: Any, clock: ManualClock
) -> None:
    # Ruby's prune_dead_workers looks through the heartbeats, not only the registered workers.
    store.heartbeat("gone:7:email", format_heartbeat(clock.time()))
    clock.advance(299)
    store.heartbeat("fresh:8:email", format_heartbeat(clock.time()))
    clock.advance(2)
    pruner = Worker(["email"], resque=resque, hostname="x", pid=2)
    assert pruner.prune_dead_workers() == ["gone:7:email"]
    assert list(store.heartbeats()) == ["fresh:8:email"]
    assert resque.workers() == []


def test_a_pruned_workers_job_with_args_not_a_list_is_reported_by_its_class_like_ruby(
    resque: Resque, store: Any, clock: ManualClock
) -> None:
    # Ruby reads worker.job['payload']['class'] and records the payload as the object it is.
    dead = Worker(["jobs"], resque=resque, hostname="bar", pid=3, options=WorkerOptions(reliable=False))
    dead.register()
    dead.heartbeat()
    payload = b'{"class":"GoodJob","args":"blah"}'
    store.set_working_on(dead.id, encode_working_on("jobs", format_run_at(clock.time()), payload))
    clock.advance(301)
    assert Worker(["jobs"], resque=resque, hostname="x", pid=2).prune_dead_workers() == [dead.id]
    [record] = failures(resque)
    assert record["exception"] == "Resque::PruneDeadWorkerDirtyExit"
    assert record["error"] == "Worker bar:3:jobs did not gracefully exit while processing GoodJob"
    assert record["payload"] == {"class": "GoodJob", "args": "blah"}


def test_only_the_holder_of_the_pruning_lock_prunes(resque: Resque, store: Any, clock: ManualClock) -> None:
    dead = Worker(["q"], resque=resque, hostname="far", pid=1)
    dead.register()
    dead.heartbeat()
    clock.advance(400)
    first = Worker(["q"], resque=resque, hostname="me", pid=2, options=WorkerOptions(heartbeat_interval=60))
    store.acquire_pruning_lock("someone else", 60)
    assert first.prune_dead_workers() == []
    assert resque.workers() == [dead.id]


def test_without_the_pruning_lock_same_host_workers_whose_process_is_gone_are_still_pruned(
    resque: Resque, store: Any
) -> None:
    # A restarted worker finds the one it replaces at once, though someone pruned a moment ago.
    resque.enqueue(StepMail, "held")
    gone = Worker(["email"], resque=resque, hostname="box", pid=41)
    gone.register()
    gone.heartbeat()
    assert gone.reserve() is not None
    far = Worker(["email"], resque=resque, hostname="far", pid=41)
    far.register()
    store.acquire_pruning_lock("someone else", 60)
    successor = Worker(["email"], resque=resque, hostname="box", pid=42, local_pids=lambda: {"42"})
    assert successor.prune_dead_workers() == [gone.id]
    assert resque.workers() == [far.id]  # stale heartbeats elsewhere wait for the lock holder
    assert [job_.args for job_ in resque.peek("email", 0, 5)] == [["held"]]


def test_a_dead_worker_another_process_is_retiring_is_left_to_it(resque: Resque, store: Any) -> None:
    gone = Worker(["email"], resque=resque, hostname="box", pid=41)
    gone.register()
    store.lock_acquire(store.keys.retiring(gone.id), "box:43:email", 30)
    pruner = Worker(["email"], resque=resque, hostname="box", pid=42, local_pids=lambda: {"42"})
    assert pruner.prune_dead_workers() == []
    assert resque.workers() == [gone.id]
    store.lock_release(store.keys.retiring(gone.id), "box:43:email")
    assert pruner.prune_dead_workers() == [gone.id]
    assert store.lock_owner(store.keys.retiring(gone.id)) is None


def test_a_job_whose_process_was_killed_goes_back_to_its_queue_then_is_poison(resque: Resque, store: Any) -> None:
    StepBoom.failures.clear()
    resque.enqueue(StepBoom, "crashes")
    worker = make_worker(resque)
    crash = DirtyExit("Child process received unhandled signal 9 (SIGKILL)")
    for _ in range(3):
        reserved = worker.reserve()
        assert reserved is not None
        assert worker.requeue_crashed(reserved, crash) is None
        assert [job_.args for job_ in resque.peek("critical", 0, 5)] == [["crashes"]]
    reserved = worker.reserve()
    assert reserved is not None
    outcome = worker.requeue_crashed(reserved, crash)
    assert outcome is not None
    assert outcome.exception == "Resque::PoisonJobError"
    assert outcome.error == (
        "job was recovered 3 times and its process died again (Child process received unhandled signal 9 "
        "(SIGKILL)); recorded as failed instead of running it again"
    )
    assert StepBoom.failures == ["PoisonJobError"]
    worker.done(reserved, outcome)
    assert resque.size("critical") == 0
    assert store.inflight(worker.id) == []
    assert "resque:inflight:recoveries" not in snapshot(store)


def test_without_reliable_fetch_a_killed_jobs_process_is_a_dirty_exit(resque: Resque) -> None:
    resque.enqueue(StepMail, 1)
    worker = make_worker(resque, reliable=False)
    reserved = worker.reserve()
    assert reserved is not None
    outcome = worker.requeue_crashed(reserved, DirtyExit("Child process received unhandled signal 9 (SIGKILL)"))
    assert outcome is not None
    assert (outcome.exception, outcome.error) == (
        "Resque::DirtyExit",
        "Child process received unhandled signal 9 (SIGKILL)",
    )
    assert resque.size("email") == 0


def test_unregistering_a_busy_worker_without_reliable_fetch_records_dirty_exit(resque: Resque) -> None:
    resque.enqueue(StepMail, 5, "x")
    worker = make_worker(resque, reliable=False)
    worker.register()
    assert worker.reserve() is not None
    worker.unregister()
    [record] = failures(resque)
    assert (record["exception"], record["error"], record["backtrace"]) == (
        "Resque::DirtyExit",
        "Job still being processed",
        [],
    )


def test_heartbeats_use_redis_time_with_the_system_clock(store: Any) -> None:
    if isinstance(store, MemoryStore):
        pytest.skip("the memory twin's server time is its clock")
    resque = Resque(store=store, registry=registry)
    worker = Worker(["q"], resque=resque, hostname="h", pid=1)
    assert worker.use_server_time
    worker.heartbeat()
    written = heartbeat_epoch(store.heartbeats()[worker.id])
    assert written is not None
    assert abs(worker.heartbeat_time() - written) < 5


def test_reserved_job_of_unreadable_bytes_describes_itself() -> None:
    reserved = ReservedJob.read("q", b"\xff")
    assert (reserved.payload, reserved.class_name, reserved.args) == (None, None, [])
    assert reserved.as_queued() is None
    assert reserved.describe() == "<unreadable payload>"


def test_reserved_job_naming_a_class_with_args_not_a_list_describes_itself_by_the_class() -> None:
    reserved = ReservedJob.read("q", b'{"class":"GoodJob","args":"blah"}')
    assert reserved.payload is None
    assert reserved.payload_object() == {"class": "GoodJob", "args": "blah"}
    assert reserved.describe() == "GoodJob"


def test_format_heartbeat_matches_ruby() -> None:
    assert format_heartbeat(1795823009.0) == "2026-11-27T23:43:29+00:00"
