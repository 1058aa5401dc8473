"""Key names under a hash-tagged namespace all hash to the namespace's one Redis Cluster slot."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from resque_impl.keys import Keys


def _every_key(keys: Keys) -> list[str]:
    worker = "host:42:critical,mail*"
    return [
        keys.queues, keys.queue("email"), keys.notify_channel, keys.workers, keys.worker(worker),
        keys.worker_started(worker), keys.heartbeats, keys.pause_all, keys.pruning_lock, keys.retiring(worker),
        keys.inflight("email", worker), keys.inflight_queues(worker), keys.recoveries, keys.stat("processed"),
        keys.worker_stat("failed", worker), keys.failed, keys.failed_queue("email"), keys.failed_queues,
        keys.delayed_schedule, keys.delayed(1795823009), keys.delayed_timestamps('{"class":"J","args":[]}'),
        keys.scheduler_master_lock, keys.scheduler_master_lock_with_prefix("blue"), keys.schedules,
        keys.schedules_changed, keys.last_enqueued_at, keys.schedule_ticks, keys.unique_job("J", "abc"),
        keys.job_lock("nightly"), keys.job_durations("J"), keys.job_duration_classes,
    ]  # fmt: skip


@pytest.mark.parametrize("namespace", ["{resque}", "{app}:jobs", "shard-{7}"])
def test_every_key_of_a_hash_tagged_namespace_is_in_one_slot(namespace: str) -> None:
    keys = Keys(namespace)
    assert {key_slot(key.encode()) for key in _every_key(keys)} == {key_slot(namespace.encode())}


@pytest.mark.parametrize(
    ("namespace", "tag"), [("{resque}", "resque"), ("a{b}c", "b"), ("resque", None), ("{}x", None)]
)
def test_the_hash_tag_is_what_redis_hashes(namespace: str, tag: str | None) -> None:
    assert Keys(namespace).hash_tag == tag


def test_without_a_hash_tag_in_flight_lists_keep_their_queues_slot() -> None:
    keys = Keys()
    assert keys.inflight("email", "w") == "{resque:queue:email}:inflight:w"
    assert key_slot(keys.inflight("email", "w").encode()) == key_slot(keys.queue("email").encode())
