"""Job classes shared by the tests, registered once in the default registry under Ruby's names."""

from __future__ import annotations

from typing import Any, ClassVar

from resque_impl import Job


class EmailJob(Job):
    queue = "email"
    performed: ClassVar[list[tuple[Any, ...]]] = []

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.performed.append(args)


class ArgumentError(Exception):
    """Ruby's ArgumentError, for records that must match the Ruby fixtures."""

    resque_name = "ArgumentError"


class FailingJob(Job):
    queue = "critical"

    @staticmethod
    def perform(*args: Any) -> None:
        raise ArgumentError("bad input <script>alert(1)</script> ünïcode")


class HookedJob(Job):
    """``before_enqueue_check`` vetoes the argument "skip", as in before_enqueue_false.json."""

    queue = "hooks"

    @staticmethod
    def before_enqueue_check(*args: Any) -> bool:
        return args != ("skip",)

    @staticmethod
    def perform(*args: Any) -> None:
        return None
