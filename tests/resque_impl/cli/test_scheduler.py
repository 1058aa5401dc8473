"""``resque-impl scheduler`` as a real process on a real redis-server: signals, several schedulers at
once, and SIGKILL in the middle of a large move."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

import resque_impl.default
from resque_impl import Resque
from resque_impl.cli import main
from resque_impl.cli.app import Context
from resque_impl.codec import decode_payload, dumps
from resque_impl.keys import Keys
from resque_impl.testing import RedisServer

NOW = int(time.time())


def scheduler_process(url: str, *options: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", url, "scheduler", "--interval", "0.1", *options]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail("timed out waiting")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    if process.poll() is None:
        process.send_signal(sig)
    _, err = process.communicate(timeout=10)
    return err


def schedule_many(client: redis.Redis, keys: Keys, count: int, timestamps: list[int]) -> None:
    """Write ``count`` delayed items spread over ``timestamps`` exactly as resque-scheduler does,
    pipelined so that a large schedule is quick to set up."""
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        timestamp = timestamps[n % len(timestamps)]
        item = dumps({"class": "RubyJob", "args": [n], "queue": "work"})
        pipe.rpush(keys.delayed(timestamp), item)
        pipe.sadd(keys.delayed_timestamps(item.decode()), keys.delayed_bucket(timestamp))
        pipe.zadd(keys.delayed_schedule, {str(timestamp): timestamp})
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def moved_args(client: redis.Redis, keys: Keys) -> Counter[int]:
    return Counter(decode_payload(raw).args[0] for raw in client.lrange(keys.queue("work"), 0, -1))


@pytest.fixture(autouse=True)
def _keep_the_default_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command makes its instance the process default; undo that after each test."""
    monkeypatch.setattr(resque_impl.default, "_current", None)


@pytest.fixture
def server(redis_server: RedisServer) -> RedisServer:
    redis_server.client().flushall()
    return redis_server


# -- in-process ----------------------------------------------------------------------------------------------
def run(resque: Resque, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), obj=Context(None, None, _resque=resque))
    return result.exit_code, result.output


def test_once_moves_what_is_due_and_exits(resque: Resque) -> None:
    resque.enqueue_at_with_queue("work", resque.clock.time(), "RubyJob", 1)
    code, _ = run(resque, "scheduler", "--once")
    assert code == 0
    assert resque.peek_raw("work") == [b'{"class":"RubyJob","args":[1]}']
    assert resque.store.lock_owner(resque.keys.scheduler_master_lock) is None


def test_dynamic_takes_up_the_schedules_kept_in_redis(resque: Resque) -> None:
    resque.set_schedule("beat", {"class": "BeatJob", "every": "1m", "queue": "beats"})
    assert run(resque, "scheduler", "--once")[0] == 0
    assert resque.store.schedules_changed_take() == ["beat"]  # untouched without --dynamic

    resque.set_schedule("beat", {"class": "BeatJob", "every": "1m", "queue": "beats"})
    assert run(resque, "scheduler", "--dynamic", "--once")[0] == 0
    assert resque.store.schedules_changed_take() == []
    assert resque.store.schedule_ticks(["beat"])["beat"] is not None  # loaded, and anchored


def test_a_bad_schedule_file_is_an_error_naming_the_entry(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text("nightly:\n  cron: '0 25 * * *'\n  class: Report\n  queue: q\n")
    code, output = run(resque, "scheduler", "--schedule", str(path), "--once")
    assert code == 1
    assert f"{path}: entry 'nightly': cron '0 25 * * *' is invalid: Bad hour" in output


def test_a_job_module_that_does_not_import_is_an_error_naming_it(resque: Resque) -> None:
    code, output = run(resque, "scheduler", "--jobs", "no_such_module_anywhere", "--once")
    assert code == 1
    assert "cannot import job module 'no_such_module_anywhere'" in output


# -- real processes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGQUIT])
def test_a_stop_signal_shuts_down_cleanly_and_frees_the_lock(server: RedisServer, sig: int) -> None:
    r = Resque(server.url)
    process = scheduler_process(server.url)
    wait_for(lambda: r.store.lock_owner(r.keys.scheduler_master_lock) is not None)
    assert r.store.lock_owner(r.keys.scheduler_master_lock).endswith(f":{process.pid}")  # type: ignore[union-attr]

    err = stop(process, sig)

    assert process.returncode == 0, err
    assert f"Got {signal.Signals(sig).name} signal; shutting down" in err
    assert r.store.lock_owner(r.keys.scheduler_master_lock) is None


def test_usr1_logs_the_schedule_and_usr2_reloads_it(server: RedisServer, tmp_path: Path) -> None:
    r = Resque(server.url)
    path = tmp_path / "schedule.yaml"
    path.write_text("slow:\n  every: 1h\n  class: Slow\n  queue: q\n")
    process = scheduler_process(server.url, "--schedule", str(path))
    wait_for(lambda: r.store.lock_owner(r.keys.scheduler_master_lock) is not None)

    path.write_text("fast:\n  every: 1s\n  class: Fast\n  queue: fast\n")
    process.send_signal(signal.SIGUSR2)
    wait_for(lambda: r.size("fast") >= 1)
    process.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    err = stop(process)

    assert "schedule reloaded: 1 recurring job(s)" in err
    assert "fast: Fast on fast [1s]" in err


def test_two_schedulers_move_each_due_job_exactly_once(server: RedisServer) -> None:
    client = server.client()
    keys = Keys()
    count = 3000
    schedule_many(client, keys, count, [NOW - 5, NOW - 1, NOW + 1, NOW + 2])
    processes = [scheduler_process(server.url, "--batch-size", "50") for _ in range(2)]

    wait_for(lambda: client.llen(keys.queue("work")) == count)
    time.sleep(0.3)  # any doubled move would show up by now
    errors = [stop(process) for process in processes]

    assert moved_args(client, keys) == Counter(range(count))
    assert client.zcard(keys.delayed_schedule) == 0
    # One master did all the moving (the other may take over as the first releases the lock on exit).
    assert sum("queued" in err for err in errors) == 1


def test_two_schedulers_that_both_act_as_master_still_move_each_job_once(server: RedisServer) -> None:
    # Different lock prefixes: two masters at once, as after a lock expired under a stalled master.
    client = server.client()
    keys = Keys()
    count = 5000
    processes = [scheduler_process(server.url, "--batch-size", "20", "--lock-prefix", f"p{n}") for n in range(2)]
    # Both hold their locks before there is anything to move (on a loaded machine the second could
    # otherwise start after the first had moved everything).
    wait_for(lambda: all(client.exists(keys.scheduler_master_lock_with_prefix(f"p{n}")) for n in range(2)))
    schedule_many(client, keys, count, [NOW - 2, NOW - 1])

    wait_for(lambda: client.llen(keys.queue("work")) == count)
    time.sleep(0.3)
    errors = [stop(process) for process in processes]

    assert moved_args(client, keys) == Counter(range(count))
    assert all("Master scheduler" in err for err in errors)


def test_sigkill_in_the_middle_of_a_large_move_loses_and_doubles_nothing(server: RedisServer) -> None:
    client = server.client()
    keys = Keys()
    count = 60_000
    schedule_many(client, keys, count, [NOW - 3, NOW - 2, NOW - 1])
    kills = 0
    while client.zcard(keys.delayed_schedule) and kills < 3:
        before = client.llen(keys.queue("work"))
        # A killed master keeps its lock for LOCK_TIMEOUT; a fresh prefix stands for its expiry.
        process = scheduler_process(server.url, "--batch-size", "100", "--lock-prefix", f"run{kills}")
        wait_for(lambda before=before: client.llen(keys.queue("work")) > before + 500)  # type: ignore[misc]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        kills += 1
        moved = moved_args(client, keys)
        remaining = sum(client.llen(keys.delayed(ts)) for ts in (NOW - 3, NOW - 2, NOW - 1))
        assert max(moved.values()) == 1, "a job was pushed twice"
        assert len(moved) + remaining == count, "a job was lost"

    assert kills >= 1
    finisher = scheduler_process(server.url, "--lock-prefix", "finisher")
    wait_for(lambda: client.zcard(keys.delayed_schedule) == 0)
    stop(finisher)
    assert moved_args(client, keys) == Counter(range(count))
    assert next(client.scan_iter(match="resque:timestamps:*", count=1000), None) is None


def test_the_commands_defaults_are_the_librarys() -> None:
    command = importlib.import_module("resque_impl.cli.scheduler")  # the package attribute is the command
    library = importlib.import_module("resque_impl.scheduler")

    assert (command.DEFAULT_INTERVAL, command.DEFAULT_LOCK_TIMEOUT) == (
        library.DEFAULT_INTERVAL,
        library.DEFAULT_LOCK_TIMEOUT,
    )
