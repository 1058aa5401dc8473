"""Ruby Resque 3.0's own workers, run beside ours when Ruby and Resque's ``lib/`` are found.

Ruby Resque is not part of this project: its ``lib/`` is named by ``RESQUE_RUBY_LIB`` (or the benchmark's
``--ruby-lib``), and ``ruby`` with the gems it needs comes from Debian's packages (``apt-get install ruby
ruby-redis ruby-redis-namespace ruby-multi-json ruby-mono-logger``). Without them the Ruby figures are
left out, and :func:`missing` says why.

Ruby's worker runs as operators run it, in a process of its own: ``Resque::Worker.new(queue).work(0)``
(drain, then exit), forking per job unless ``FORK_PER_JOB=false``, with Resque's default logging.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["LIB_VARIABLE", "drain", "lib", "missing", "version"]

#: The environment variable naming Ruby Resque 3.0's ``lib/``.
LIB_VARIABLE = "RESQUE_RUBY_LIB"

# The no-op job our Noop stands for (``Bench::Noop``, as benchmarks.tasks names it), then a burst worker.
_SCRIPT = """
require "resque"
module Bench
  class Noop
    def self.perform(*args); end
  end
end
Resque.redis = ENV.fetch("BENCH_REDIS_URL")
Resque::Worker.new(ENV.fetch("BENCH_QUEUE")).work(0)
"""


def lib() -> Path | None:
    """Ruby Resque's ``lib/`` from ``RESQUE_RUBY_LIB``, or None when it is unset."""
    value = os.environ.get(LIB_VARIABLE)
    return Path(value).resolve() if value else None


def missing() -> str | None:
    """Why Ruby Resque cannot be run here, or None when it can."""
    if shutil.which("ruby") is None:
        return (
            "ruby is not installed (apt-get install ruby ruby-redis ruby-redis-namespace ruby-multi-json"
            " ruby-mono-logger)"
        )
    found = lib()
    if found is None:
        return f"{LIB_VARIABLE} is not set (or --ruby-lib not given): it names Ruby Resque 3.0's lib/"
    if not (found / "resque.rb").is_file():
        return f"{LIB_VARIABLE}={found} holds no resque.rb"
    return None


def version() -> str | None:
    """Ruby Resque's version, or None when it cannot be run."""
    found = lib()
    if missing() is not None or found is None:
        return None
    printed = subprocess.run(
        ["ruby", "-I", str(found), "-e", 'require "resque/version"; print Resque::VERSION'],
        capture_output=True,
        text=True,
        check=False,
    )
    return printed.stdout.strip() or None


def drain(redis_url: str, queue: str, *, fork: bool) -> None:
    """Run a Ruby Resque burst worker on ``queue`` until it is empty (forking per job, or not)."""
    found = lib()
    if found is None:
        raise RuntimeError(missing() or "Ruby Resque is not available")
    environment = {**os.environ, "BENCH_REDIS_URL": redis_url, "BENCH_QUEUE": queue}
    if not fork:
        environment["FORK_PER_JOB"] = "false"
    subprocess.run(["ruby", "-I", str(found), "-e", _SCRIPT], env=environment, check=True)
