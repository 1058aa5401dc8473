"""What ``resque_impl.activejob`` exports: pinned, so adding or dropping a name is a decision."""

from __future__ import annotations

import resque_impl.activejob

EXPECTED = {
    # jobs
    "ActiveJob",
    "ActiveJobs",
    "JobData",
    "JobWrapper",
    "WRAPPER_CLASS",
    "active_job_registry",
    "build_job_data",
    # arguments
    "DateTime",
    "GlobalID",
    "IndifferentHash",
    "RubyModule",
    "Symbol",
    "TimeWithZone",
    "deserialize_arguments",
    "serialize_arguments",
    # errors
    "DeserializationError",
    "SerializationError",
}


def test_the_exported_names_are_exactly_these() -> None:
    assert set(resque_impl.activejob.__all__) == EXPECTED
    assert len(resque_impl.activejob.__all__) == len(EXPECTED)


def test_every_exported_name_exists() -> None:
    for name in resque_impl.activejob.__all__:
        assert getattr(resque_impl.activejob, name) is not None


def test_its_errors_are_in_the_library_error_tree() -> None:
    assert issubclass(resque_impl.activejob.SerializationError, resque_impl.NotSerializableError)
    assert issubclass(resque_impl.activejob.DeserializationError, resque_impl.PayloadError)
