"""What every plugin needs: the :class:`Resque` a job class works with, and a stable job identity.

Plugins are mixin classes of hooks, written only against the public API, as any user could write
them. A job class names its instance with a ``resque`` class attribute; without one, plugins use the
process-wide default (:func:`resque_impl.configure`), which ``resque-impl`` commands set to the
instance they were started with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from resque_impl.client import Resque
from resque_impl.codec import dumps
from resque_impl.default import current

__all__ = ["args_digest", "resque_for"]


def resque_for(cls: type) -> Resque:
    """The :class:`Resque` that ``cls``'s plugins use: its ``resque`` attribute, else the default."""
    own = getattr(cls, "resque", None)
    return own if isinstance(own, Resque) else current()


def args_digest(args: Sequence[Any]) -> str:
    """A short, stable digest of the arguments as they travel (their exact JSON)."""
    return hashlib.sha1(dumps(list(args)), usedforsecurity=False).hexdigest()
