"""Payload class names map to registered Python classes only; nothing is imported on a payload's say."""

from __future__ import annotations

import sys
import types

import pytest

from resque_impl import Job, JobRegistrationError, NoClassError, Registry, UnknownJobClassError, job
from resque_impl.job import register_module_jobs
from resque_impl.registry import default_name, default_registry, ruby_constant_name


class Admin:
    class EmailJob:
        @staticmethod
        def perform() -> None: ...


def test_a_class_is_named_by_its_qualified_name_in_ruby_style() -> None:
    assert default_name(Admin.EmailJob) == "Admin::EmailJob"


def test_classes_defined_in_functions_are_named_without_the_function() -> None:
    class LocalJob:
        pass

    assert default_name(LocalJob) == "LocalJob"


def test_a_name_attribute_overrides_and_is_not_inherited() -> None:
    class Base:
        name = "Ruby::Base"

    class Child(Base):
        pass

    assert default_name(Base) == "Ruby::Base"
    assert default_name(Child) == "Child"


def test_register_and_resolve(registry: Registry) -> None:
    class ThumbnailJob:
        pass

    registry.register(ThumbnailJob)
    assert registry.resolve("ThumbnailJob") is ThumbnailJob
    assert registry.name_of(ThumbnailJob) == "ThumbnailJob"
    assert "ThumbnailJob" in registry
    assert registry.names() == ["ThumbnailJob"]


def test_register_under_an_explicit_name(registry: Registry) -> None:
    class Mailer:
        pass

    registry.register(Mailer, name="Admin::Mailer")
    assert registry.resolve("Admin::Mailer") is Mailer
    assert registry.name_of(Mailer) == "Admin::Mailer"


def test_two_classes_with_one_name_are_an_error(registry: Registry) -> None:
    def define_first() -> type:
        class Clash:
            pass

        return Clash

    def define_second() -> type:
        class Clash:
            pass

        return Clash

    registry.register(define_first())
    with pytest.raises(JobRegistrationError, match=r"'Clash' is already registered to .*define_first"):
        registry.register(define_second())


def test_the_same_class_statement_run_again_replaces_the_old_class(registry: Registry) -> None:
    def define() -> type:
        class Rerun:
            pass

        return Rerun

    first, second = define(), define()
    registry.register(first)
    registry.register(second)
    assert registry.resolve("Rerun") is second


def test_an_unknown_name_is_refused_and_never_imported(registry: Registry) -> None:
    with pytest.raises(UnknownJobClassError, match=r"uninitialized constant os\.system"):
        registry.resolve("os.system")
    with pytest.raises(UnknownJobClassError):
        registry.resolve("json")
    assert "Missing" not in sys.modules


def test_unregister_forgets_a_name(registry: Registry) -> None:
    class Gone:
        pass

    registry.register(Gone)
    registry.unregister("Gone")
    assert registry.get("Gone") is None


def test_an_empty_name_is_refused(registry: Registry) -> None:
    with pytest.raises(NoClassError):
        registry.register(type("Nameless", (), {}), name=" ")


def test_job_subclasses_register_themselves() -> None:
    class SelfRegisteringJob(Job):
        queue = "q"

        def perform(self) -> None: ...

    assert default_registry.resolve("SelfRegisteringJob") is SelfRegisteringJob
    default_registry.unregister("SelfRegisteringJob")


def test_abstract_job_bases_can_opt_out() -> None:
    class AbstractBaseJob(Job, register=False):
        pass

    assert "AbstractBaseJob" not in default_registry


def test_the_job_decorator_sets_queue_and_name(registry: Registry) -> None:
    @job(queue="mail", name="Ruby::Mail", registry=registry)
    class Mail:
        @staticmethod
        def perform() -> None: ...

    assert Mail.queue == "mail"  # type: ignore[attr-defined]
    assert registry.resolve("Ruby::Mail") is Mail


def test_the_job_decorator_requires_perform(registry: Registry) -> None:
    with pytest.raises(NoClassError, match="has no perform method"):
        job(registry=registry)(type("NoPerform", (), {}))


@pytest.mark.parametrize(
    ("payload_name", "constant"),
    [
        ("some-job", "SomeJob"),
        ("some-JOB", "SomeJob"),  # Ruby's capitalize lowers the rest of each piece
        ("some_job-x", "Some_jobX"),  # Resque.classify splits on dashes only; underscores stay
        ("::Admin::EmailJob", "Admin::EmailJob"),
        ("Admin::EmailJob", "Admin::EmailJob"),
    ],
)
def test_payload_names_are_read_as_ruby_resque_constantize_reads_them(payload_name: str, constant: str) -> None:
    assert ruby_constant_name(payload_name) == constant


def test_a_dashed_payload_name_resolves_to_the_camel_cased_class_as_in_ruby(registry: Registry) -> None:
    class SomeJob:
        pass

    registry.register(SomeJob)
    assert registry.resolve("some-job") is SomeJob
    assert registry.get("::SomeJob") is SomeJob
    assert registry.get("some_job") is None
    assert "some-job" not in registry  # membership is by exact registered name


def test_adopt_registers_a_class_once_and_keeps_an_explicit_name(registry: Registry) -> None:
    class Plain:
        pass

    class Named:
        pass

    registry.register(Named, "Ruby::Named")
    assert registry.adopt(Plain) == "Plain"
    assert registry.adopt(Plain) == "Plain"
    assert registry.adopt(Named) == "Ruby::Named"
    assert registry.names() == ["Plain", "Ruby::Named"]


def test_a_jobs_module_registers_the_plain_job_classes_it_defines(registry: Registry) -> None:
    module = types.ModuleType("app_jobs")
    exec(  # a module's source, as --jobs would import it
        "from resque_impl import Job\n"
        "from tests.jobs import EmailJob\n"  # imported, not defined here: left alone
        "class Plain:\n    queue = 'plain'\n    @classmethod\n    def perform(cls): ...\n"
        "class Helper:\n    pass\n"  # no perform: not a job
        "class Base(Job, register=False):\n    def perform(self): ...\n",  # chose not to register
        vars(module),
    )
    assert register_module_jobs(module, registry) == ["Plain"]
    assert registry.names() == ["Plain"]
