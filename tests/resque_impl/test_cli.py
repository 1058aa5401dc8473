"""``resque-impl`` admin commands, run in-process against fakeredis and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from resque_impl import Resque
from resque_impl.cli import main
from resque_impl.cli.app import Context
from resque_impl.codec import Payload
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology


def run(resque: Resque, *args: str, input: str | None = None) -> str:
    context = Context(redis=None, namespace=None, _resque=resque)
    result = CliRunner().invoke(main, list(args), obj=context, input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_enqueue_reads_json_arguments_and_falls_back_to_strings(resque: Resque) -> None:
    output = run(resque, "enqueue", "email", "Admin::Mailer", "42", "hello", '{"a":[1]}')
    assert "enqueued Admin::Mailer" in output
    assert resque.peek_raw("email") == [b'{"class":"Admin::Mailer","args":[42,"hello",{"a":[1]}]}']


def test_queues_lists_sizes(resque: Resque) -> None:
    resque.enqueue_to("email", "J", 1)
    assert json.loads(run(resque, "queues", "--json")) == {"email": 1}
    assert "email" in run(resque, "queues")


def test_info_prints_resque_info(resque: Resque) -> None:
    assert json.loads(run(resque, "info", "--json"))["pending"] == 0


def _failures(resque: Resque, count: int) -> None:
    for n in range(count):
        resque.record_failure("q", Payload("J", [n]), ValueError(f"bad {n}"), worker="w")


def test_failed_list_requeue_and_remove_by_id(resque: Resque) -> None:
    _failures(resque, 3)
    lines = run(resque, "failed", "list", "--json").splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == 3
    assert "requeued 1 job(s)" in run(resque, "failed", "requeue", ids[0], "--remove")
    assert resque.size("q") == 1
    assert "removed 1 record(s)" in run(resque, "failed", "remove", ids[1])
    assert resque.failures.count() == 1


def test_failed_list_pages_matching_records_newest_first_on_the_multi_queue_backend(resque: Resque) -> None:
    # The multi-queue backend's each() windows before filtering, as Ruby's; the listing pages matches.
    multi = Resque(store=resque.store, clock=resque.clock, failure_backend="redis_multi_queue")
    for n, class_name in enumerate(["A", "B", "A", "B", "A"]):
        multi.record_failure("q", Payload(class_name, [n]), ValueError("bad"), worker="w")
    lines = run(multi, "failed", "list", "--json", "--queue", "q", "--class", "A", "--offset", "1", "--limit", "2")
    assert [json.loads(line)["payload"]["args"] for line in lines.splitlines()] == [[2], [0]]


def test_failed_requeue_all_then_clear_retried(resque: Resque) -> None:
    _failures(resque, 2)
    assert "requeued 2 job(s)" in run(resque, "failed", "requeue", "--all")
    assert "removed 2 requeued record(s)" in run(resque, "failed", "clear", "--retried", "--yes")


def test_failed_list_says_when_empty(resque: Resque) -> None:
    assert "no failed jobs" in run(resque, "failed", "list")


def test_a_stale_id_is_a_one_line_error(resque: Resque) -> None:
    context = Context(redis=None, namespace=None, _resque=resque)
    result = CliRunner().invoke(main, ["failed", "remove", "failed:0:deadbeef"], obj=context)
    assert result.exit_code == 1
    assert "removed or changed by someone else" in result.output


@pytest.mark.parametrize(
    ("redis_arg", "code", "message"),
    [
        ("127.0.0.1:1", 1, "cannot reach redis://127.0.0.1:1/0"),
        ("bogus", 2, "malformed Redis address 'bogus'"),
        ("redis+sentinel://127.0.0.1:1/primary", 2, "no sentinel reachable for 'redis+sentinel://127.0.0.1:1/primary'"),
        ("redis+sentinel://127.0.0.1:1", 2, "malformed Sentinel URL"),
    ],
)
def test_bad_servers_exit_with_one_line_2_for_bad_input(redis_arg: str, code: int, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "resque_impl.cli", "--redis", redis_arg, "info"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_installed_command_talks_to_a_real_server(redis_server: RedisServer) -> None:
    redis_server.client().flushall()
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", redis_server.url]
    subprocess.run([*command, "enqueue", "email", "J", "1"], check=True, capture_output=True)
    result = subprocess.run([*command, "queues", "--json"], check=True, capture_output=True, text=True)
    assert json.loads(result.stdout) == {"email": 1}


def test_the_installed_command_takes_a_sentinel_url_with_its_parameters(redis_sentinel: SentinelTopology) -> None:
    url = redis_sentinel.url + "?namespace=%7Bapp%7D&wait_replicas=1"
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", url]
    subprocess.run([*command, "enqueue", "email", "J", "1"], check=True, capture_output=True)
    result = subprocess.run([*command, "queues", "--json"], check=True, capture_output=True, text=True)
    assert json.loads(result.stdout) == {"email": 1}
    with redis_sentinel.server_on(redis_sentinel.primary_port()).client() as primary:
        assert primary.llen("{app}:queue:email") == 1
        primary.flushall()
