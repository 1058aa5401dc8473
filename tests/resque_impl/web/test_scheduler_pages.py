"""The scheduler's pages: delayed jobs by timestamp (read from resque-scheduler's own keys, Ruby's among
them), one timestamp's jobs, the recurring schedule, and the queue-now, cancel, clear and run-now
actions; each page checked through its JSON twin."""

from __future__ import annotations

import logging
import uuid
from typing import Any, ClassVar

import pytest
import redis
from flask.testing import FlaskClient

from resque_impl import ConfigurationError, Job, ManualClock, Resque
from resque_impl.clock import format_started
from resque_impl.codec import dumps
from resque_impl.web import Limits, create_app
from tests.conftest import dumped, load_fixture, loaded
from tests.resque_impl.web.conftest import AUTH_HEADER, PASSWORD, USER, post
from tests.resque_impl.web.seed import file_schedule

RUBY_SOON, RUBY_LATER = 1796427809, 1893456000  # the two timestamps of delayed.json


class WebRunNowVetoedJob(Job):
    """Vetoes every enqueue, and counts its before_delayed_enqueue calls."""

    queue = "vetoed"
    delayed_calls: ClassVar[list[tuple[Any, ...]]] = []

    @classmethod
    def before_delayed_enqueue_count(cls, *args: Any) -> None:
        cls.delayed_calls.append(args)

    @staticmethod
    def before_enqueue_veto(*args: Any) -> bool:
        return False

    @staticmethod
    def perform(*args: Any) -> None:
        return None


def _item(class_name: str, args: list[Any], queue: str, **extras: Any) -> bytes:
    return dumps({"class": class_name, "args": args, "queue": queue, **extras})


def _client_with(resque: Resque, **options: Any) -> FlaskClient:
    client = create_app(resque, auth=f"{USER}:{PASSWORD}", secret_key="test-secret", **options).test_client()
    client.environ_base.update(HTTP_AUTHORIZATION=AUTH_HEADER)
    return client


# -- /delayed ----------------------------------------------------------------------------------------
def test_delayed_lists_rubys_timestamps_with_counts_and_first_jobs(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    data = client.get("/api/delayed").get_json()

    assert (data["timestamps"], data["jobs"], data["jobs_complete"], data["due"]) == (2, 3, True, 0)
    soon, later = data["items"]
    assert (soon["timestamp"], soon["time"], soon["size"]) == (RUBY_SOON, "2026-12-04 23:43:29 UTC", 1)
    assert (soon["first"]["class"], soon["first"]["args"], soon["first"]["queue"]) == ("EmailJob", [3], "high")
    assert (later["size"], later["first"]["args"], later["first"]["queue"]) == (2, [1, "later"], "email")
    assert soon["age"] == -7 * 86400
    assert data["earliest"]["timestamp"] == RUBY_SOON


def test_delayed_page_renders_the_same_data(client: FlaskClient, redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    page = client.get("/delayed").get_data(as_text=True)

    assert "3 jobs at 2 timestamps" in page
    assert "2026-12-04 23:43:29 UTC" in page
    assert f'href="/delayed/{RUBY_LATER}"' in page
    assert "+1 more" in page
    assert "in 7d 0h" in page


def test_delayed_shows_due_jobs_and_the_schedulers_master(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, clock: ManualClock
) -> None:
    now = int(clock.time())
    for offset in (-30, -1, 0, 1, 60):
        resque.store.delayed_push(now + offset, _item("EmailJob", [offset], "email"))

    without_master = client.get("/api/delayed").get_json()
    page = client.get("/delayed").get_data(as_text=True)
    redis_client.set(resque.keys.scheduler_master_lock, "sched-1:2210")
    with_master = client.get("/api/delayed").get_json()

    assert (without_master["due"], without_master["master"]) == (3, None)
    assert without_master["earliest"]["age"] == 30
    assert [item["age"] >= 0 for item in without_master["items"]] == [True, True, True, False, False]
    assert "No scheduler holds the master lock" in page
    assert with_master["master"] == "sched-1:2210"


def test_delayed_pages_through_timestamps_by_position(client: FlaskClient, resque: Resque, clock: ManualClock) -> None:
    base = int(clock.time()) + 100
    for n in range(45):
        resque.store.delayed_push(base + n, _item("EmailJob", [n], "email"))

    last = client.get("/api/delayed?start=40").get_json()
    past_the_end = client.get("/api/delayed?start=9999&per_page=10").get_json()

    assert [item["first"]["args"] for item in last["items"]] == [[n] for n in range(40, 45)]
    assert (past_the_end["start"], len(past_the_end["items"])) == (40, 5)
    assert client.get("/api/delayed?per_page=100000").get_json()["per_page"] == 100


def test_the_total_is_counted_over_a_bounded_number_of_timestamps(resque: Resque, clock: ManualClock) -> None:
    base = int(clock.time()) + 100
    for n in range(25):
        for _ in range(2):
            resque.store.delayed_push(base + n, _item("EmailJob", [n], "email"))
    client = _client_with(resque, limits=Limits(delayed_count_budget=10))

    data = client.get("/api/delayed").get_json()
    page = client.get("/delayed").get_data(as_text=True)

    assert (data["jobs"], data["jobs_counted_over"], data["jobs_complete"], data["timestamps"]) == (20, 10, False, 25)
    assert "20+ jobs at 25 timestamps" in page
    assert "Jobs counted at the first 10 of 25 timestamps." in page


def test_an_empty_delayed_queue_says_so(client: FlaskClient) -> None:
    data = client.get("/api/delayed").get_json()

    assert (data["timestamps"], data["jobs"], data["items"], data["earliest"]) == (0, 0, [], None)
    assert "No delayed jobs" in client.get("/delayed").get_data(as_text=True)


# -- /delayed/<timestamp> ----------------------------------------------------------------------------
def test_a_timestamp_shows_its_jobs_in_order_with_queue_extras_and_ids(client: FlaskClient, resque: Resque) -> None:
    resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [1, {"k": "v"}], "email"))
    resque.store.delayed_push(RUBY_LATER, _item("RetryJob", [2], "low", retry_attempt=3))
    resque.store.delayed_push(RUBY_LATER, b"not json")

    data = client.get(f"/api/delayed/{RUBY_LATER}").get_json()

    first, second, odd = data["jobs"]
    assert (data["size"], data["time"]) == (3, "2030-01-01 00:00:00 UTC")
    assert (first["class"], first["args"], first["queue"], first["extras"]) == (
        "EmailJob",
        [1, {"k": "v"}],
        "email",
        {},
    )
    assert (second["queue"], second["extras"]) == ("low", {"retry_attempt": 3})
    assert (odd["class"], odd["raw"]) == (None, "not json")
    assert [job["id"].split(":")[:2] for job in data["jobs"]] == [[str(RUBY_LATER), str(n)] for n in range(3)]
    page = client.get(f"/delayed/{RUBY_LATER}").get_data(as_text=True)
    assert "not a job payload" in page
    assert "retry_attempt" in page


def test_a_timestamp_pages_through_its_jobs(client: FlaskClient, resque: Resque) -> None:
    for n in range(45):
        resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [n], "email"))

    data = client.get(f"/api/delayed/{RUBY_LATER}?start=40&per_page=20").get_json()

    assert [job["args"] for job in data["jobs"]] == [[n] for n in range(40, 45)]
    assert data["jobs"][0]["position"] == 40


def test_a_timestamp_without_jobs_says_so(client: FlaskClient) -> None:
    assert client.get(f"/api/delayed/{RUBY_LATER}").get_json()["size"] == 0
    assert "No jobs are due at this time" in client.get(f"/delayed/{RUBY_LATER}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/delayed/-5", "/delayed/abc", "/delayed/253402300800", "/delayed/1e9"])
def test_timestamps_outside_what_can_be_shown_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


# -- actions on delayed jobs -------------------------------------------------------------------------
def test_queue_now_moves_every_job_of_one_timestamp_onto_its_queue(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    response = post(client, "/actions/queue-delayed-now", {"timestamp": str(RUBY_LATER)})

    assert response.status_code == 303
    assert response.headers["Location"] == "/delayed"
    assert resque.peek_raw("email", 0, 5) == [
        b'{"class":"EmailJob","args":[1,"later"]}',
        b'{"class":"EmailJob","args":[2,"later"]}',
    ]
    assert resque.delayed_queue_peek(0, 5) == [RUBY_SOON]
    assert "Queued 2 job(s) due at 2030-01-01 00:00:00 UTC." in client.get("/delayed").get_data(as_text=True)


def test_queue_now_on_a_timestamp_already_gone_says_so(client: FlaskClient) -> None:
    post(client, "/actions/queue-delayed-now", {"timestamp": str(RUBY_LATER)})

    assert "Nothing queued: no job is due at" in client.get("/delayed").get_data(as_text=True)


def test_queue_now_says_how_many_jobs_could_not_be_queued(client: FlaskClient, resque: Resque) -> None:
    resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [1], "email"))
    resque.store.delayed_push(RUBY_LATER, b"not a payload")

    post(client, "/actions/queue-delayed-now", {"timestamp": str(RUBY_LATER)})

    page = client.get("/delayed").get_data(as_text=True)
    assert "Queued 1 job(s) due at 2030-01-01 00:00:00 UTC. 1 other(s) were not: vetoed by a hook, recorded" in page
    assert [record.worker for record in resque.failures.all()] == ["resque-impl web"]


@pytest.mark.parametrize("value", ["", "-1", "soon", "1e9", "253402300800"])
def test_queue_now_wants_epoch_seconds(client: FlaskClient, value: str) -> None:
    assert post(client, "/actions/queue-delayed-now", {"timestamp": value}).status_code == 400  # type: ignore[attr-defined]


def test_cancel_leaves_exactly_the_keys_resque_schedulers_remove_delayed_leaves(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)
    second = client.get(f"/api/delayed/{RUBY_LATER}").get_json()["jobs"][1]

    response = post(client, "/actions/cancel-delayed", {"id": second["id"]})

    assert response.status_code == 303
    assert dumped(redis_client, namespace) == load_fixture("delayed_removed.json")["keys"]
    assert "Cancelled EmailJob due at 2030-01-01 00:00:00 UTC." in client.get("/delayed").get_data(as_text=True)


def test_cancelling_the_last_job_of_a_timestamp_takes_it_off_the_schedule(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)
    [job] = client.get(f"/api/delayed/{RUBY_SOON}").get_json()["jobs"]

    post(client, "/actions/cancel-delayed", {"id": job["id"]})

    assert resque.delayed_queue_peek(0, 5) == [RUBY_LATER]
    assert not redis_client.exists('resque:timestamps:{"class":"EmailJob","args":[3],"queue":"high"}')


def test_cancel_finds_a_job_that_moved_since_the_page_was_drawn(client: FlaskClient, resque: Resque) -> None:
    for n in range(5):
        resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [n], "email"))
    target = client.get(f"/api/delayed/{RUBY_LATER}").get_json()["jobs"][3]
    resque.remove_delayed_item(RUBY_LATER, _item("EmailJob", [0], "email"))  # positions shift down by one

    post(client, "/actions/cancel-delayed", {"id": target["id"]})

    assert [job.args for job in resque.delayed_timestamp_peek(RUBY_LATER, 0, 9)] == [[1], [2], [4]]


def test_cancel_of_a_job_that_is_gone_changes_nothing_and_says_so(client: FlaskClient, resque: Resque) -> None:
    for n in range(3):
        resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [n], "email"))
    target = client.get(f"/api/delayed/{RUBY_LATER}").get_json()["jobs"][0]
    resque.enqueue_delayed_timestamp(RUBY_LATER)
    resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [9], "email"))  # another job, now at position 0

    response = post(client, "/actions/cancel-delayed", {"id": target["id"]})

    assert response.status_code == 303
    assert resque.delayed_timestamp_size(RUBY_LATER) == 1
    assert "that delayed job was queued, cancelled or changed" in client.get("/delayed").get_data(as_text=True)


@pytest.mark.parametrize("item_id", ["0", f"{RUBY_LATER}:0", f"{RUBY_LATER}:x:abc", "a:0:b", f"{RUBY_LATER}:0:"])
def test_a_bare_position_or_a_malformed_id_cancels_nothing(client: FlaskClient, resque: Resque, item_id: str) -> None:
    resque.store.delayed_push(RUBY_LATER, _item("EmailJob", [1], "email"))

    post(client, "/actions/cancel-delayed", {"id": item_id})

    assert resque.delayed_timestamp_size(RUBY_LATER) == 1


def test_clear_deletes_every_delayed_job_and_its_index(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    post(client, "/actions/clear-delayed")

    assert dumped(redis_client, namespace) == {}
    assert "Cleared every delayed job." in client.get("/delayed").get_data(as_text=True)


def test_clear_asks_for_confirmation_first(client: FlaskClient, redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    page = client.get("/delayed").get_data(as_text=True)

    assert 'data-confirm="Delete every delayed job (3 jobs at 2 timestamps)? This cannot be undone."' in page


# -- /schedule ---------------------------------------------------------------------------------------
def test_schedule_shows_file_and_dynamic_entries_by_name(resque: Resque, clock: ManualClock) -> None:
    resque.set_schedule("cleanup", {"class": "CleanupJob", "every": "1h", "queue": "low", "args": [7]})
    resque.set_schedule("heartbeat", {"class": "FasterHeartbeatJob", "every": "10s", "queue": "beats"})
    client = _client_with(resque, schedule=file_schedule())

    data = client.get("/api/schedule").get_json()

    entries = {entry["name"]: entry for entry in data["entries"]}
    assert list(entries) == ["cleanup", "heartbeat", "nightly_report", "reindex_search"]
    assert (entries["cleanup"]["source"], entries["cleanup"]["args"]) == ("dynamic", [7])
    assert (entries["heartbeat"]["source"], entries["heartbeat"]["class"]) == ("dynamic", "FasterHeartbeatJob")
    nightly = entries["nightly_report"]
    assert (nightly["source"], nightly["trigger"], nightly["schedule"]) == ("file", "cron", "0 2 * * * Europe/Paris")
    assert (nightly["class"], nightly["queue"], nightly["args"]) == ("ReportJob", "reports", ["daily"])
    assert nightly["description"] == "Yesterday's numbers for the ops channel"
    assert entries["reindex_search"]["trigger"] is None
    assert data["file_entries"] == 3


def test_schedule_shows_when_each_entry_last_enqueued_as_resque_scheduler_writes_it(
    resque: Resque, redis_client: redis.Redis, clock: ManualClock
) -> None:
    redis_client.hset(resque.keys.last_enqueued_at, "nightly_report", format_started(clock.time() - 3600))
    client = _client_with(resque, schedule=file_schedule())

    entries = {entry["name"]: entry for entry in client.get("/api/schedule").get_json()["entries"]}

    assert entries["nightly_report"]["last_enqueued_at"] == "2026-11-27 22:43:29 +0000"
    assert entries["nightly_report"]["last_enqueued_age"] == 3600
    assert entries["heartbeat"]["last_enqueued_at"] is None


def test_the_next_run_comes_from_the_schedulers_own_rules(
    resque: Resque, redis_client: redis.Redis, clock: ManualClock
) -> None:
    client = _client_with(resque, schedule=file_schedule())
    before = {entry["name"]: entry for entry in client.get("/api/schedule").get_json()["entries"]}
    redis_client.hset(resque.keys.schedule_ticks, "heartbeat", repr(clock.time() - 12))
    after = {entry["name"]: entry for entry in client.get("/api/schedule").get_json()["entries"]}

    # 02:00 in Paris on 2026-11-28 is 01:00 UTC, 1 h 16 min 31 s after the clock's 23:43:29.
    assert before["nightly_report"]["next_run_time"] == "2026-11-28 01:00:00 UTC"
    assert before["nightly_report"]["next_run_in"] == 3600 + 16 * 60 + 31
    assert before["heartbeat"]["next_run"] is None  # an "every" grid starts with the first tick
    assert after["heartbeat"]["next_run_in"] == 18
    assert before["reindex_search"]["next_run"] is None


def test_dynamic_schedules_the_scheduler_cannot_read_are_listed_with_why(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    redis_client.hset(resque.keys.schedules, "bad_cron", b'{"class":"X","cron":"every tuesday"}')
    redis_client.hset(resque.keys.schedules, "not_json", b"{oops")
    redis_client.hset(resque.keys.schedules, "elsewhere", b'{"class":"X","cron":"* * * * *","env":"production"}')

    data = client.get("/api/schedule").get_json()

    problems = {problem["name"]: problem for problem in data["unreadable"]}
    assert data["entries"] == []
    assert problems["bad_cron"]["error"].startswith("cron 'every tuesday' has 2 fields")
    assert problems["not_json"]["definition"] == "{oops"
    assert problems["elsewhere"]["error"].startswith("not loaded: its env setting")
    assert "Dynamic schedules the scheduler skips" in client.get("/schedule").get_data(as_text=True)


def test_a_dynamic_definition_is_read_once_so_its_warnings_do_not_repeat_on_every_refresh(
    client: FlaskClient, resque: Resque, caplog: pytest.LogCaptureFixture
) -> None:
    definition = {"class": "X", "every": "1h", "queue": "q", "custom_job_class": "Y", "description": uuid.uuid4().hex}
    resque.set_schedule("ruby_style", definition)

    with caplog.at_level(logging.WARNING, logger="resque_impl.scheduler"):
        for _ in range(3):
            client.get("/schedule?partial=1")

    assert [record.getMessage() for record in caplog.records if "custom_job_class" in record.getMessage()] == [
        "persistent_schedules: entry 'ruby_style': ignoring unknown key(s) custom_job_class"
    ]


def test_an_entry_whose_queue_is_unknown_here_offers_no_run_now(client: FlaskClient, resque: Resque) -> None:
    resque.set_schedule("mystery", {"class": "NotImportedHereJob", "every": "1h"})

    [entry] = client.get("/api/schedule").get_json()["entries"]
    page = client.get("/schedule").get_data(as_text=True)

    assert entry["queue"] is None
    assert "Run now" not in page


def test_an_empty_schedule_says_where_entries_come_from(client: FlaskClient) -> None:
    page = client.get("/schedule").get_data(as_text=True)

    assert "No recurring schedules" in page
    assert "--schedule schedule.yaml" in page


# -- run now -------------------------------------------------------------------------------------------
def test_run_now_enqueues_a_file_entrys_job_and_leaves_its_rhythm_alone(
    resque: Resque, redis_client: redis.Redis
) -> None:
    client = _client_with(resque, schedule=file_schedule())

    response = post(client, "/actions/run-schedule", {"name": "nightly_report"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/schedule"
    assert resque.peek_raw("reports") == [b'{"class":"ReportJob","args":["daily"]}']
    assert redis_client.exists(resque.keys.last_enqueued_at, resque.keys.schedule_ticks) == 0
    assert "Queued ReportJob (schedule nightly_report) now." in client.get("/schedule").get_data(as_text=True)


def test_run_now_runs_a_dynamic_entry_which_wins_over_the_files(resque: Resque) -> None:
    resque.set_schedule(
        "nightly_report", {"class": "ReportJob", "cron": "0 3 * * *", "queue": "reports", "args": ["v2"]}
    )
    client = _client_with(resque, schedule=file_schedule())

    post(client, "/actions/run-schedule", {"name": "nightly_report"})

    assert resque.peek_raw("reports") == [b'{"class":"ReportJob","args":["v2"]}']


def test_run_now_runs_the_hooks_of_a_class_known_here(client: FlaskClient, resque: Resque) -> None:
    WebRunNowVetoedJob.delayed_calls.clear()
    resque.set_schedule("vetoed", {"class": "WebRunNowVetoedJob", "every": "1h", "args": [1]})

    post(client, "/actions/run-schedule", {"name": "vetoed"})

    assert WebRunNowVetoedJob.delayed_calls == [(1,)]
    assert resque.size("vetoed") == 0
    assert "was not queued: a before_enqueue hook vetoed it" in client.get("/schedule").get_data(as_text=True)


def test_run_now_of_an_unknown_or_queueless_entry_does_nothing_and_says_why(
    client: FlaskClient, resque: Resque
) -> None:
    resque.set_schedule("mystery", {"class": "NotImportedHereJob", "every": "1h"})

    post(client, "/actions/run-schedule", {"name": "nobody"})
    first = client.get("/schedule").get_data(as_text=True)
    post(client, "/actions/run-schedule", {"name": "mystery"})
    second = client.get("/schedule").get_data(as_text=True)

    assert "there is no schedule nobody" in first
    assert "no queue for class NotImportedHereJob" in second
    assert resque.queues() == []


# -- navigation and live refresh -----------------------------------------------------------------------
def _nav(client: FlaskClient, path: str = "/overview") -> list[str]:
    page = client.get(path).get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    return [label for label in ("Schedule", "Delayed") if f">{label}</a>" in nav]


def test_the_scheduler_tabs_show_only_while_the_scheduler_is_in_use(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    unused = _nav(client)
    on_its_own_page = _nav(client, "/delayed")
    resque.enqueue_in_with_queue("email", 60, "EmailJob", 1)
    delayed = _nav(client)
    resque.reset_delayed_queue()
    redis_client.set(resque.keys.scheduler_master_lock, "sched-1:2210")
    running = _nav(client)

    assert unused == []
    assert on_its_own_page == ["Schedule", "Delayed"]
    assert delayed == running == ["Schedule", "Delayed"]


def test_a_schedule_file_shows_the_scheduler_tabs(resque: Resque) -> None:
    assert _nav(_client_with(resque, schedule=file_schedule())) == ["Schedule", "Delayed"]


def test_the_delayed_list_and_the_schedule_refresh_live_but_a_timestamp_does_not(client: FlaskClient) -> None:
    assert 'data-live-url="/delayed?partial=1"' in client.get("/delayed").get_data(as_text=True)
    assert 'data-live-url="/schedule?partial=1"' in client.get("/schedule").get_data(as_text=True)
    assert "data-live-url" not in client.get(f"/delayed/{RUBY_LATER}").get_data(as_text=True)


def test_a_schedule_file_path_is_refused_with_how_to_load_it(resque: Resque) -> None:
    with pytest.raises(ConfigurationError, match="load_schedule_file"):
        create_app(resque, schedule="schedule.yaml")  # type: ignore[arg-type]
