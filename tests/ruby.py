"""The real Ruby Resque 3.0, driven from tests for live interoperability checks.

Ruby Resque is not part of this project: tests find its ``lib/`` through ``RESQUE_RUBY_LIB`` (and
resque-scheduler 5.0's through ``RESQUE_SCHEDULER_RUBY_LIB``), with ``ruby`` and the gems it needs from
Debian's packages (``apt-get install ruby ruby-redis ruby-redis-namespace ruby-multi-json
ruby-mono-logger``). Without them the tests that need Ruby skip, saying how to enable them; under
``CI=true`` they fail instead, so a skip never hides a failure in CI (``.ci/run`` sets both variables).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ENABLE_HINT = "tests/ruby.py says how to enable the live Ruby tests"


class RubyError(AssertionError):
    """A Ruby script exited non-zero; the message carries its output."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the Ruby interop tests; see .ci/run)")
    pytest.skip(f"{reason}; {ENABLE_HINT}")


def _lib(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value).resolve() if value else None


@dataclass
class RubyResque:
    """Runs Ruby scripts with Ruby Resque loaded and pointed at ``redis_url``."""

    lib: Path
    scheduler_lib: Path | None
    redis_url: str

    @classmethod
    def find(cls, redis_url: str, *, scheduler: bool = False) -> RubyResque:
        """The Ruby side, or a skip (a failure under ``CI=true``) saying what is missing."""
        lib = _lib("RESQUE_RUBY_LIB")
        scheduler_lib = _lib("RESQUE_SCHEDULER_RUBY_LIB")
        if shutil.which("ruby") is None:
            _unavailable("ruby is not installed")
        if lib is None or not (lib / "resque.rb").is_file():
            _unavailable("RESQUE_RUBY_LIB is not set" if lib is None else f"RESQUE_RUBY_LIB={lib} holds no resque.rb")
        if scheduler and (scheduler_lib is None or not (scheduler_lib / "resque-scheduler.rb").is_file()):
            _unavailable(
                "RESQUE_SCHEDULER_RUBY_LIB is not set"
                if scheduler_lib is None
                else f"RESQUE_SCHEDULER_RUBY_LIB={scheduler_lib} holds no resque-scheduler.rb"
            )
        assert lib is not None
        return cls(lib, scheduler_lib, redis_url)

    def command(self, script: str) -> list[str]:
        """The ``ruby`` command line running ``script`` after loading Resque and connecting it."""
        includes = ["-I", str(self.lib)]
        requires = 'require "json"\nrequire "resque"\n'
        if self.scheduler_lib is not None:
            includes += ["-I", str(self.scheduler_lib)]
            requires += 'require "resque-scheduler"\n'
        prelude = f'{requires}$stdout.sync = true\nResque.redis = "{self.redis_url}"\n'
        return ["ruby", *includes, "-e", prelude + textwrap.dedent(script)]

    def run(self, script: str, *, timeout: float = 60, env: dict[str, str] | None = None) -> str:
        """Run ``script`` to completion and return what it printed; :class:`RubyError` if it failed."""
        done = subprocess.run(
            self.command(script),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if done.returncode != 0:
            raise RubyError(f"ruby exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
        return done.stdout

    def start(self, script: str, *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start ``script`` in the background (a worker, say); the caller stops it."""
        return subprocess.Popen(
            self.command(script),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
