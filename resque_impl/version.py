"""The package version; also shown in worker process titles (``resque-<version>: ...``)."""

__version__ = "0.1.0"
