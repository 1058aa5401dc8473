"""The pytest plugin, run on sample projects that only import resque_impl (via pytester)."""

from __future__ import annotations

import pytest

from resque_impl.testing import RedisServer

#: Hypothesis, installed beside us, is not needed by the sample projects; loading it for each run
#: would only make these tests slower.
# The inner sessions use none of the other plugins installed here (pytest-asyncio would warn that its
# loop scope is unset in their ini files).
QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider", "-p", "no:asyncio")

#: A small application: a job class, and code that enqueues through an instance built at import time
#: and through the module-level default.
APP = """
import resque_impl

SENT = []


class WelcomeEmail(resque_impl.Job):
    queue = "email"

    @staticmethod
    def perform(address, options):
        SENT.append((address, options))


CLIENT = resque_impl.Resque("redis://127.0.0.1:1/0")   # nothing listens there


def signup(address):
    CLIENT.enqueue(WelcomeEmail, address, {"retries": (1, 2)})


def signup_with_default(address):
    resque_impl.enqueue(WelcomeEmail, address, {})
"""

TESTS = """
import app


def test_signup_runs_the_job():
    app.SENT.clear()
    app.signup("ann@example.com")
    assert app.SENT == [("ann@example.com", {"retries": [1, 2]})]


def test_signup_captures_the_job(resque_fake):
    app.SENT.clear()
    app.signup("ann@example.com")
    assert app.SENT == []
    resque_fake.assert_enqueued(app.WelcomeEmail, "ann@example.com", {"retries": [1, 2]}, queue="email")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(app=APP)
    pytester.syspathinsert()
    return pytester


def test_with_resque_inline_application_code_runs_its_jobs(project: pytest.Pytester) -> None:
    project.makepyfile(test_app=TESTS)
    result = project.runpytest_subprocess(*QUIET, "--resque-inline", "-k", "runs_the_job")
    result.assert_outcomes(passed=1)


def test_without_it_application_jobs_are_captured(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_app="""
import app

def test_captured():
    app.signup("ann@example.com")
    assert app.SENT == []
    assert app.CLIENT.size("email") == 1
"""
    )
    result = project.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=1)


def test_a_fixture_asks_for_its_mode_whatever_the_command_line(project: pytest.Pytester) -> None:
    project.makepyfile(test_app=TESTS)
    result = project.runpytest(*QUIET, "--resque-inline")
    result.assert_outcomes(passed=2)


def test_the_ini_file_sets_the_mode_and_the_command_line_overrides_it(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nresque_mode = inline\n")
    project.makepyfile(test_app=TESTS)
    project.runpytest(*QUIET, "-k", "runs_the_job").assert_outcomes(passed=1)
    project.runpytest(*QUIET, "-k", "runs_the_job", "--resque-mode=fake").assert_outcomes(failed=1)


def test_the_marker_sets_the_mode_of_one_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_app="""
import pytest
import app

@pytest.mark.resque(mode="inline")
def test_inline():
    app.signup_with_default("ann")
    assert app.SENT == [("ann", {})]

@pytest.mark.resque("fake")
def test_fake(resque):
    app.signup_with_default("bob")
    assert resque.size("email") == 1
"""
    )
    project.runpytest(*QUIET, "--resque-inline").assert_outcomes(passed=2)


PLAIN_AND_RUBY = """
import pytest
import resque_impl

RAN = []


class Plain:                       # a Ruby-style job class: queue + perform, no base class
    queue = "plain"

    @classmethod
    def perform(cls, x):
        RAN.append(x)


def test_plain(resque_inline):
    assert resque_impl.Resque().enqueue(Plain, 1)
    assert RAN == [1]


def test_ruby_only(resque_inline):
    resque_impl.Resque().enqueue_to("ruby", "Admin::RubyOnlyJob", 1)
    resque_impl.Resque().enqueue_to("ruby", "Admin::RubyOnlyJob", 2)
    resque_inline.assert_enqueued("Admin::RubyOnlyJob", count=2)
"""


def test_inline_mode_runs_a_plain_class_and_says_once_when_it_cannot_run_a_job(project: pytest.Pytester) -> None:
    project.makepyfile(test_app=PLAIN_AND_RUBY)
    # A process warns once per class name: run where no earlier test has warned about this one.
    result = project.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*NotRunInlineWarning: inline mode could not run the job 'Admin::RubyOnlyJob'*"])


@pytest.mark.parametrize(
    ("how", "args"),
    [("flag", ("--resque-strict",)), ("ini", ()), ("marker", ())],
)
def test_strict_mode_makes_a_job_inline_mode_cannot_run_an_error(
    project: pytest.Pytester, how: str, args: tuple[str, ...]
) -> None:
    source = PLAIN_AND_RUBY
    if how == "ini":
        project.makeini("[pytest]\nresque_strict = true\n")
    if how == "marker":
        source = source.replace("def test_ruby_only", "@pytest.mark.resque(strict=True)\ndef test_ruby_only")
    project.makepyfile(test_app=source)
    result = project.runpytest(*QUIET, *args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*StrictInlineError*Admin::RubyOnlyJob*"])


CAPTURED_BY_DEFAULT = """
import app

def test_one():
    app.signup("ann")

def test_two():
    app.signup("bob")
"""


def test_the_run_says_when_the_default_fake_mode_kept_jobs_from_the_applications_redis(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_app=CAPTURED_BY_DEFAULT)
    result = project.runpytest(*QUIET)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*default fake mode captured jobs meant for redis://127.0.0.1:1/0 (2 tests)*nothing reached that Redis*"]
    )


@pytest.mark.parametrize("chosen", [("--resque-mode=fake",), ("--resque-inline",)])
def test_a_suite_that_chose_its_mode_hears_nothing_of_it(project: pytest.Pytester, chosen: tuple[str, ...]) -> None:
    project.makepyfile(test_app=CAPTURED_BY_DEFAULT)
    result = project.runpytest(*QUIET, *chosen)
    result.assert_outcomes(passed=2)
    assert "default fake mode" not in result.stdout.str()


def test_each_test_gets_a_fresh_sandbox(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_app="""
import pytest
import app

@pytest.mark.parametrize("attempt", range(3))
def test_alone(attempt, resque_fake):
    app.signup("ann")
    assert app.CLIENT.size("email") == 1
    assert len(resque_fake.jobs()) == 1
"""
    )
    project.runpytest(*QUIET).assert_outcomes(passed=3)


def test_inline_failures_propagate_or_are_recorded_when_asked(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_app="""
import pytest
import resque_impl

class Exploding(resque_impl.Job):
    queue = "boom"

    @staticmethod
    def perform():
        raise RuntimeError("exploded")

def test_propagates(resque_inline):
    with pytest.raises(RuntimeError, match="exploded"):
        resque_impl.enqueue(Exploding)

@pytest.mark.resque(record_failures=True)
def test_recorded(resque_inline):
    resque_impl.enqueue(Exploding)
    assert [record.error for record in resque_inline.failures] == ["exploded"]
"""
    )
    project.runpytest(*QUIET).assert_outcomes(passed=2)


def test_resque_clock_is_the_clock_every_instance_reads(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_app="""
from datetime import datetime, timezone
import pytest
import app

@pytest.mark.resque(start=datetime(2030, 1, 1, tzinfo=timezone.utc))
def test_clock(resque_clock, resque):
    assert app.CLIENT.clock is resque_clock
    resque_clock.advance(90)
    assert resque.clock.time() == datetime(2030, 1, 1, 0, 1, 30, tzinfo=timezone.utc).timestamp()
"""
    )
    project.runpytest(*QUIET).assert_outcomes(passed=1)


def test_using_both_modes_in_one_test_is_an_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_app="def test_both(resque_fake, resque_inline):\n    pass\n")
    result = project.runpytest(*QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*resque_fake or resque_inline, not both*"])


def test_a_bad_mode_in_the_ini_file_is_reported(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nresque_mode = sometimes\n")
    project.makepyfile(test_app="def test_any(resque):\n    pass\n")
    result = project.runpytest(*QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*resque test mode must be one of fake, inline, real; got 'sometimes'*"])


def test_options_are_listed_in_a_resque_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*QUIET, "--help")
    result.stdout.fnmatch_lines(
        [
            "resque-impl test modes:",
            "*--resque-mode=*",
            "*--resque-inline*",
            "*--resque-redis-url=*",
        ]
    )
    result.stdout.fnmatch_lines(["*resque_mode (string)*"])


def test_a_suite_that_does_not_use_resque_impl_never_imports_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_other="""
import sys

def test_unrelated():
    assert "resque_impl" not in sys.modules
"""
    )
    pytester.runpytest_subprocess(*QUIET).assert_outcomes(passed=1)


@pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed")
def test_real_mode_gives_each_test_its_own_namespace_and_cleans_it(
    project: pytest.Pytester, redis_server: RedisServer
) -> None:
    project.makepyfile(
        test_app="""
import pytest
import app

@pytest.mark.parametrize("attempt", range(2))
def test_real(attempt, resque):
    assert resque.namespace.startswith("resque-test:")
    assert app.CLIENT.store is not resque.store
    resque.enqueue(app.WelcomeEmail, "ann", {})
    assert resque.size("email") == 1
    assert resque.redis.lrange(f"{resque.namespace}:queue:email", 0, -1) == [
        b'{"class":"WelcomeEmail","args":["ann",{}]}'
    ]
"""
    )
    client = redis_server.client()
    before = set(client.keys("*"))
    project.runpytest(*QUIET, "--resque-mode=real", f"--resque-redis-url={redis_server.url}").assert_outcomes(passed=2)
    assert set(client.keys("*")) == before
    client.close()


@pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed")
def test_real_mode_is_isolated_under_xdist(project: pytest.Pytester, redis_server: RedisServer) -> None:
    project.makepyfile(
        test_app="""
import pytest
import app

@pytest.mark.parametrize("attempt", range(8))
def test_real(attempt, resque):
    resque.enqueue(app.WelcomeEmail, attempt, {})
    assert resque.size("email") == 1
"""
    )
    result = project.runpytest_subprocess(
        *QUIET, "-n", "2", "-p", "xdist", "--resque-mode=real", f"--resque-redis-url={redis_server.url}"
    )
    result.assert_outcomes(passed=8)


def test_redis_server_skips_with_the_reason_when_none_is_installed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_server="def test_needs_server(redis_server):\n    pass\n")
    monkeypatch.setenv("PATH", str(pytester.path))
    result = pytester.runpytest(*QUIET, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*redis-server is not installed; install it with*"])
    pytester.runpytest(*QUIET, "--resque-require-redis").assert_outcomes(errors=1)


WORKER_TESTS = """
import app

def test_worker_drains(resque, resque_worker):
    resque.enqueue(app.WelcomeEmail, "ann", {})
    ran = resque_worker.drain("email")
    assert [run.args for run in ran] == [["ann", {}]]
    assert resque.info()["processed"] == 1

def test_a_redelivered_job_runs_twice(resque, resque_faults, resque_worker):
    app.SENT.clear()
    resque.enqueue(app.WelcomeEmail, "bob", {})
    resque_faults.kill_after_perform()
    assert [job.args for job in resque_faults.recover().requeued] == [["bob", {}]]
    resque_worker.drain()
    assert app.SENT == [("bob", {}), ("bob", {})]
"""


@pytest.mark.parametrize("mode", ["fake", "real"])
def test_the_worker_and_fault_fixtures_work_in_each_mode(
    project: pytest.Pytester, mode: str, request: pytest.FixtureRequest
) -> None:
    project.makepyfile(test_app=WORKER_TESTS)
    options = [f"--resque-mode={mode}"]
    if mode == "real":
        server: RedisServer = request.getfixturevalue("redis_server")
        options.append(f"--resque-redis-url={server.url}")
    project.runpytest(*QUIET, *options).assert_outcomes(passed=2)


@pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed")
def test_real_mode_moves_delayed_jobs_with_the_virtual_clock(
    project: pytest.Pytester, redis_server: RedisServer
) -> None:
    project.makepyfile(
        test_app="""
import app

def test_later(resque, resque_clock, resque_worker):
    app.SENT.clear()
    resque.enqueue_in(600, app.WelcomeEmail, "ann", {})
    assert resque.size("email") == 0
    resque_clock.advance(600)
    assert resque.size("email") == 1
    resque_worker.drain()
    assert app.SENT == [("ann", {})]
"""
    )
    result = project.runpytest(*QUIET, "--resque-mode=real", f"--resque-redis-url={redis_server.url}")
    result.assert_outcomes(passed=1)
