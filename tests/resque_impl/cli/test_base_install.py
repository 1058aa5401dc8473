"""The base install (``pip install resque-impl``, no extras): the library, the test modes and every
command import without an optional dependency, and what needs one says which extra to install.

Each case runs in a fresh interpreter whose imports of the extras' packages fail, as they would where
they are not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: The top-level packages the extras bring (sim, web, scheduler, metrics, tracing).
EXTRAS = (
    "yaml",
    "cronsim",
    "flask",
    "waitress",
    "prometheus_client",
    "statsd",
    "simpy",
    "pydantic",
    "numpy",
    "pandas",
    "matplotlib",
    "rich",
    "opentelemetry",
)

_WITHOUT_EXTRAS = f"""
import sys

class WithoutExtras:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {EXTRAS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, WithoutExtras())
for name in [name for name in sys.modules if name.partition(".")[0] in {EXTRAS!r}]:
    del sys.modules[name]
"""


def run(code: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS + code, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return run("from resque_impl.cli import main\nmain(sys.argv[1:], prog_name='resque-impl')", *arguments)


def test_the_library_imports_without_any_extra() -> None:
    done = run("import resque_impl, resque_impl.worker, resque_impl.aio, resque_impl.store.memory\nprint('ok')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


_FAKE_MODE_ROUND_TRIP = """
from resque_impl import enqueue_in, job
from resque_impl.testing import fake_mode

@job(queue="mail")
class Welcome:
    @staticmethod
    def perform(address):
        print("sent", address)

with fake_mode() as fake:
    enqueue_in(60, Welcome, "ann@example.com")
    fake.advance(61)
    fake.drain()
    fake.assert_performed(Welcome, "ann@example.com")
"""


def test_the_fake_mode_runs_a_delayed_job_without_any_extra() -> None:
    done = run(_FAKE_MODE_ROUND_TRIP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sent ann@example.com"


def test_a_schedule_file_without_the_scheduler_extra_names_it(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yml"
    schedule.write_text("tick:\n  every: 30s\n  class: Tick\n")
    done = run("from resque_impl.scheduler import load_schedule_file\nload_schedule_file(sys.argv[1])", str(schedule))
    assert done.returncode != 0
    assert "reading a schedule file needs PyYAML: pip install 'resque-impl[scheduler]'" in done.stderr


@pytest.mark.parametrize("command", ["work", "scheduler", "web", "metrics", "failed", "mark-deploy", "enqueue"])
def test_every_command_s_help_works_without_any_extra(command: str) -> None:
    done = cli(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: resque-impl" in done.stdout


@pytest.mark.parametrize(
    ("arguments", "extra"),
    [(("scheduler", "--schedule", "schedule.yml"), "scheduler"), (("web",), "web"), (("metrics",), "metrics")],
)
def test_a_command_that_needs_an_extra_names_it(arguments: tuple[str, ...], extra: str) -> None:
    done = cli("--redis", "redis://127.0.0.1:1/0", *arguments)
    assert done.returncode != 0
    assert f"pip install 'resque-impl[{extra}]'" in done.stderr
