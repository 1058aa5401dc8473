"""resque_impl: Ruby-Resque-compatible background jobs for Python."""

from resque_impl.version import __version__

__all__ = ["__version__"]
