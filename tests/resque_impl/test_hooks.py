"""Job hooks run in Ruby Resque's order with Ruby Resque's semantics."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest

from resque_impl import DontPerform, Execution, FailureHookError, Resque
from resque_impl.codec import Payload
from resque_impl.errors import exception_name
from resque_impl.hooks import hook_names
from resque_impl.job import QueuedJob


class Recorder:
    """Base for test jobs: each hook appends what happened to ``events``."""

    queue = "hooks"
    events: ClassVar[list[str]]

    def __init_subclass__(cls) -> None:
        cls.events = []


@pytest.fixture(autouse=True)
def _fresh_events() -> None:
    for cls in Recorder.__subclasses__():
        cls.events.clear()


class Ordered(Recorder):
    @classmethod
    def before_perform_b(cls, *args: Any) -> None:
        cls.events.append("before b")

    @classmethod
    def before_perform_a(cls, *args: Any) -> None:
        cls.events.append("before a")

    @classmethod
    def around_perform_a(cls, *args: Any) -> Iterator[None]:
        cls.events.append("around a in")
        yield
        cls.events.append("around a out")

    @classmethod
    def around_perform_b(cls, *args: Any) -> Iterator[None]:
        cls.events.append("around b in")
        yield
        cls.events.append("around b out")

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.events.append(f"perform {list(args)}")

    @classmethod
    def after_perform_b(cls, *args: Any) -> None:
        cls.events.append("after b")

    @classmethod
    def after_perform_a(cls, *args: Any) -> None:
        cls.events.append("after a")


def test_hooks_run_alphabetically_with_the_first_around_hook_outermost() -> None:
    assert Execution(Ordered, [1, "x"]).perform() is True
    assert Ordered.events == [
        "before a",
        "before b",
        "around a in",
        "around b in",
        "perform [1, 'x']",
        "around b out",
        "around a out",
        "after a",
        "after b",
    ]


class Skipped(Recorder):
    @classmethod
    def before_perform_skip(cls, *args: Any) -> None:
        raise DontPerform

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.events.append("perform")

    @classmethod
    def after_perform(cls, *args: Any) -> None:
        cls.events.append("after")

    @classmethod
    def on_failure(cls, error: BaseException, *args: Any) -> None:
        cls.events.append("failure")


def test_dont_perform_in_a_before_hook_skips_the_job_quietly() -> None:
    assert Execution(Skipped, []).perform() is False
    assert Skipped.events == []


class NotYielding(Recorder):
    @classmethod
    def around_perform_a(cls, *args: Any) -> Iterator[None]:
        cls.events.append("around a")
        return
        yield  # a generator function that returns before yielding

    @classmethod
    def around_perform_b(cls, *args: Any) -> Iterator[None]:
        cls.events.append("around b")
        yield

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.events.append("perform")

    @classmethod
    def after_perform(cls, *args: Any) -> None:
        cls.events.append("after")


def test_an_around_hook_that_does_not_yield_skips_perform_but_not_after_hooks() -> None:
    assert Execution(NotYielding, []).perform() is False
    assert NotYielding.events == ["around a", "after"]


class Raising(Recorder):
    @classmethod
    def around_perform(cls, *args: Any) -> Iterator[None]:
        try:
            yield
        finally:
            cls.events.append("around saw the end")

    @classmethod
    def perform(cls, *args: Any) -> None:
        raise ValueError("boom")

    @classmethod
    def after_perform(cls, *args: Any) -> None:
        cls.events.append("after")

    @classmethod
    def on_failure_b(cls, error: BaseException, *args: Any) -> None:
        cls.events.append(f"failure b {error} {list(args)}")

    @classmethod
    def on_failure_a(cls, error: BaseException, *args: Any) -> None:
        cls.events.append(f"failure a {error} {list(args)}")


def test_an_exception_runs_failure_hooks_with_the_error_and_args_then_propagates() -> None:
    with pytest.raises(ValueError, match="boom"):
        Execution(Raising, [7]).perform()
    assert Raising.events == ["around saw the end", "failure a boom [7]", "failure b boom [7]"]


def test_failure_hooks_run_once_per_execution() -> None:
    execution = Execution(Raising, [1])
    with pytest.raises(ValueError, match="boom"):
        execution.perform()
    execution.run_failure_hooks(ValueError("again"))
    assert [event for event in Raising.events if event.startswith("failure")] == [
        "failure a boom [1]",
        "failure b boom [1]",
    ]


class Rescuing(Recorder):
    @classmethod
    def around_perform(cls, *args: Any) -> Iterator[None]:
        try:
            yield
        except ValueError:
            cls.events.append("rescued")

    @classmethod
    def perform(cls, *args: Any) -> None:
        raise ValueError("handled")

    @classmethod
    def after_perform(cls, *args: Any) -> None:
        cls.events.append("after")


def test_an_around_hook_may_rescue_the_error_then_after_hooks_run() -> None:
    assert Execution(Rescuing, []).perform() is False
    assert Rescuing.events == ["rescued", "after"]


class BrokenFailureHook(Recorder):
    @classmethod
    def perform(cls, *args: Any) -> None:
        raise KeyError("original")

    @classmethod
    def on_failure(cls, error: BaseException, *args: Any) -> None:
        raise RuntimeError("hook broke")


def test_an_error_in_a_failure_hook_is_reported_with_the_original() -> None:
    with pytest.raises(FailureHookError) as caught:
        Execution(BrokenFailureHook, [3]).perform()
    assert isinstance(caught.value.original, KeyError)
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_a_failure_hook_error_reads_word_for_word_as_ruby_resques() -> None:
    # Ruby Resque's Job#run_failure_hooks: the job as Job#inspect writes it, and on the second line the
    # hook's error class before the original's (Ruby's own wording, kept for byte-compatible records).
    job = QueuedJob("testqueue", Payload("BrokenFailureHook", ["a", 1, None, {"k": [1.0]}]))
    with pytest.raises(FailureHookError) as caught:
        Execution(BrokenFailureHook, job.args, job=job).perform()
    assert str(caught.value) == (
        "Additional error (RuntimeError: hook broke) occurred in running failure hooks for job "
        '(Job{testqueue} | BrokenFailureHook | ["a", 1, nil, {"k"=>[1.0]}])\n'
        "Original error that caused job failure was RuntimeError: KeyError: 'original'"
    )
    assert exception_name(caught.value) == "RuntimeError"


def test_without_a_queued_job_a_failure_hook_error_names_the_class_and_its_queue() -> None:
    with pytest.raises(FailureHookError, match=r"for job \(Job\{hooks\} \| BrokenFailureHook \| \[3\]\)\n"):
        Execution(BrokenFailureHook, [3]).perform()


class ReturnsFromPerform(Recorder):
    @classmethod
    def around_perform_a_outer(cls, *args: Any) -> Iterator[None]:
        cls.events.append(f"outer got {(yield)!r}")

    @classmethod
    def around_perform_b_inner(cls, *args: Any) -> Generator[None, Any, str]:
        result = yield
        cls.events.append(f"inner got {result!r}")
        return f"inner saw {result}"

    @classmethod
    def perform(cls, *args: Any) -> int:
        return 42


def test_an_around_hooks_yield_evaluates_to_what_ran_inside_it() -> None:
    # Ruby: the innermost hook's block returns perform's value; each outer block returns the value of
    # the hook inside it.
    assert Execution(ReturnsFromPerform, []).perform() is True
    assert ReturnsFromPerform.events == ["inner got 42", "outer got 'inner saw 42'"]


class ContextAroundGenerator(Recorder):
    @classmethod
    def around_perform_a(cls, *args: Any) -> Iterator[None]:
        cls.events.append(f"a got {(yield)!r}")

    @classmethod
    @contextmanager
    def around_perform_b(cls, *args: Any) -> Iterator[None]:
        yield

    @classmethod
    def perform(cls, *args: Any) -> str:
        return "done"


def test_a_context_manager_around_hook_passes_the_value_on() -> None:
    assert Execution(ContextAroundGenerator, []).perform() is True
    assert ContextAroundGenerator.events == ["a got 'done'"]


class InnerSkips(Recorder):
    @classmethod
    def around_perform_a(cls, *args: Any) -> Iterator[None]:
        cls.events.append(f"a got {(yield)!r}")

    @classmethod
    def around_perform_b(cls, *args: Any) -> Generator[None, Any, str]:
        return "skipped"
        yield

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.events.append("perform")


def test_an_inner_hook_that_does_not_yield_gives_the_outer_its_return_value() -> None:
    assert Execution(InnerSkips, []).perform() is False
    assert InnerSkips.events == ["a got 'skipped'"]


class ContextManagerAround(Recorder):
    @classmethod
    @contextmanager
    def around_perform(cls, *args: Any) -> Iterator[None]:
        cls.events.append("enter")
        yield
        cls.events.append("exit")

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.events.append("perform")


def test_an_around_hook_may_return_a_context_manager() -> None:
    assert Execution(ContextManagerAround, []).perform() is True
    assert ContextManagerAround.events == ["enter", "perform", "exit"]


class WrongAround(Recorder):
    @classmethod
    def around_perform(cls, *args: Any) -> int:
        return 1

    @classmethod
    def perform(cls, *args: Any) -> None: ...


def test_an_around_hook_of_the_wrong_shape_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="around hook around_perform must be a generator function"):
        Execution(WrongAround, []).perform()


class YieldsTwice(Recorder):
    @classmethod
    def around_perform(cls, *args: Any) -> Iterator[None]:
        yield
        yield

    @classmethod
    def perform(cls, *args: Any) -> None: ...


def test_an_around_hook_that_yields_twice_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="yielded more than once"):
        Execution(YieldsTwice, []).perform()


class InstanceStyle:
    instances: ClassVar[list[InstanceStyle]] = []

    def perform(self, value: int) -> None:
        self.instances.append(self)


def test_instance_method_perform_gets_a_fresh_instance_per_execution() -> None:
    Execution(InstanceStyle, [1]).perform()
    Execution(InstanceStyle, [2]).perform()
    first, second = InstanceStyle.instances
    assert first is not second


def test_hooks_added_later_are_noticed() -> None:
    class Patched:
        @staticmethod
        def perform() -> None: ...

    assert hook_names(Patched, "before_perform") == ()
    Patched.before_perform_late = staticmethod(lambda: None)  # type: ignore[attr-defined]
    assert hook_names(Patched, "before_perform") == ("before_perform_late",)


class EnqueueHooked(Recorder):
    seen_size: ClassVar[int]

    @classmethod
    def before_enqueue_a_veto(cls, *args: Any) -> bool:
        cls.events.append("a")
        return args != ("veto",)

    @classmethod
    def before_enqueue_b_none(cls, *args: Any) -> None:
        cls.events.append("b")

    @classmethod
    def after_enqueue(cls, *args: Any) -> None:
        cls.events.append("after")

    @classmethod
    def perform(cls, *args: Any) -> None: ...


def test_every_before_enqueue_hook_runs_and_exactly_false_vetoes(resque: Resque) -> None:
    assert resque.enqueue(EnqueueHooked, "veto") is False
    assert EnqueueHooked.events == ["a", "b"]
    assert resque.size("hooks") == 0


def test_none_from_a_before_enqueue_hook_is_not_a_veto(resque: Resque) -> None:
    assert resque.enqueue(EnqueueHooked, "ok") is True
    assert EnqueueHooked.events == ["a", "b", "after"]
    assert resque.size("hooks") == 1


class DequeueHooked(Recorder):
    @classmethod
    def before_dequeue(cls, *args: Any) -> bool:
        cls.events.append("before")
        return args != ("keep",)

    @classmethod
    def after_dequeue(cls, *args: Any) -> None:
        cls.events.append("after")

    @classmethod
    def perform(cls, *args: Any) -> None: ...


def test_before_dequeue_false_vetoes_the_removal(resque: Resque) -> None:
    resque.enqueue(DequeueHooked, "keep")
    assert resque.dequeue(DequeueHooked, "keep") is None
    assert resque.size("hooks") == 1
    assert DequeueHooked.events == ["before"]


def test_dequeue_hooks_surround_the_removal(resque: Resque) -> None:
    resque.enqueue(DequeueHooked, "go")
    assert resque.dequeue(DequeueHooked, "go") == 1
    assert DequeueHooked.events == ["before", "after"]
