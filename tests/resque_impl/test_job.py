"""Jobs as payloads on queues: Ruby's ``Resque::Job`` identity."""

from __future__ import annotations

from resque_impl import QueuedJob
from resque_impl.codec import Payload


def test_jobs_are_equal_when_queue_resolved_class_and_args_match_as_in_ruby_job_eq() -> None:
    # Ruby's Job#== compares queue, payload_class (constantized: "some-job" is SomeJob) and args.
    job = QueuedJob("q", Payload("SomeJob", [1]))
    assert job == QueuedJob("q", Payload("some-job", [1]))
    assert job == QueuedJob("q", Payload("::SomeJob", [1], {"enqueued_at": 1.5}))
    assert hash(job) == hash(QueuedJob("q", Payload("some-job", [1])))
    assert job != QueuedJob("other", Payload("SomeJob", [1]))
    assert job != QueuedJob("q", Payload("SomeJob", [2]))
    assert job != QueuedJob("q", Payload("OtherJob", [1]))
