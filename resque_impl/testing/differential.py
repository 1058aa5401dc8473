"""A store that runs every call on two stores (yours and ours, or fakeredis and a real server) and fails
on the first call whose results differ."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

from resque_impl.store import StoreProtocol

__all__ = ["DifferentialStore"]


class DifferentialStore:
    """A store that runs every call on two stores and fails on the first call whose results differ.

    Results are compared after reading iterators to the end; ``primary``'s result is returned. Give
    it to a ``Resque`` as ``Resque(store=DifferentialStore(mine, reference).as_store())``.
    """

    def __init__(self, primary: StoreProtocol, secondary: StoreProtocol) -> None:
        self.primary = primary
        self.secondary = secondary
        self.keys = primary.keys
        self.description = f"{primary.description} vs {secondary.description}"
        #: Calls made so far, for the failure message.
        self.calls = 0

    def as_store(self) -> StoreProtocol:
        """This object, typed as the store protocol it fulfils through :meth:`__getattr__`."""
        return cast("StoreProtocol", self)

    def __getattr__(self, name: str) -> Any:
        first = getattr(self.primary, name)
        second = getattr(self.secondary, name)
        if not callable(first):
            return first
        return self._compare(name, first, second)

    def _compare(self, name: str, first: Callable[..., Any], second: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            mine, theirs = _settled(first(*args, **kwargs)), _settled(second(*args, **kwargs))
            if mine != theirs:
                raise AssertionError(
                    f"call {self.calls}, {name}{args!r}: {self.primary.description} returned {mine!r} but "
                    f"{self.secondary.description} returned {theirs!r}"
                )
            return mine

        return call


def _settled(result: Any) -> Any:
    return list(result) if isinstance(result, Iterator) else result
