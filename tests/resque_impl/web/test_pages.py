"""What each page shows, read from data written the way Ruby Resque writes it, and what each action
does; every page is checked through its JSON twin, which carries exactly the data the HTML renders."""

from __future__ import annotations

import re

import fakeredis
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from resque_impl import ConfigurationError, Keys, ManualClock, Resque
from resque_impl.store.memory import MemoryStore
from resque_impl.testing import RedisServer
from resque_impl.web import Limits, create_app
from tests.conftest import beside, load_fixture, loaded
from tests.resque_impl.web.conftest import post
from tests.resque_impl.web.seed import load_ruby_fixtures, register_worker

RUBY_WORKER = "vm:19891:high,email"


def test_overview_shows_a_busy_ruby_worker_and_rubys_counts(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)

    data = client.get("/api/overview").get_json()

    assert data["stats"].items() >= {"processed": 3, "failed": 2, "queues": 2, "workers": 1, "working": 1}.items()
    assert data["queues"] == [{"name": "critical", "size": 0}, {"name": "email", "size": 0}]
    [job] = data["working"]
    assert (job["worker"], job["queue"], job["class"], job["args"]) == (
        RUBY_WORKER,
        "email",
        "EmailJob",
        [5, "x"],
    )
    assert job["run_at"] == "2026-11-27T23:43:29Z"


def test_overview_page_renders_the_same_data(client: FlaskClient, redis_client: redis.Redis, namespace: str) -> None:
    load_ruby_fixtures(redis_client, namespace)

    page = client.get("/overview").get_data(as_text=True)

    assert RUBY_WORKER in page
    assert "EmailJob" in page
    assert "[5, &#34;x&#34;]" in page


def test_workers_are_grouped_by_host_with_heartbeat_age(
    client: FlaskClient, redis_client: redis.Redis, clock: ManualClock, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)
    clock.advance(42)

    data = client.get("/api/workers").get_json()

    [host] = data["hosts"]
    [worker] = host["workers"]
    assert host["host"] == "vm"
    assert (
        worker.items() >= {"id": RUBY_WORKER, "pid": "19891", "queues": ["high", "email"], "state": "working"}.items()
    )
    assert worker["started"] == "2026-11-27 23:43:29 +0000"
    assert (worker["heartbeat_age"], worker["stale"]) == (42.0, False)


def test_a_worker_whose_heartbeat_is_over_five_minutes_old_is_stale(
    client: FlaskClient, redis_client: redis.Redis, clock: ManualClock, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)
    clock.advance(301)

    assert client.get(f"/api/workers/{RUBY_WORKER}").get_json()["worker"]["stale"] is True


def test_worker_detail_shows_per_worker_stats_and_the_current_job(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, clock: ManualClock
) -> None:
    register_worker(
        redis_client,
        resque.keys,
        "box:7:a,b",
        started=clock.time() - 90,
        heartbeat=clock.time() - 5,
        processed=12,
        failed=3,
        working={"queue": "a", "run_at": "2026-11-27T23:43:19Z", "payload": {"class": "K", "args": [1]}},
    )

    worker = client.get("/api/workers/box:7:a,b").get_json()["worker"]

    assert (worker["processed"], worker["failed"], worker["started_age"], worker["heartbeat_age"]) == (
        12,
        3,
        90,
        5,
    )
    assert worker["job"].items() >= {"class": "K", "args": [1], "queue": "a", "running_for": 10.0}.items()
    assert "box:7:a,b" in client.get("/workers/box:7:a,b").get_data(as_text=True)


def test_an_unknown_worker_says_so(client: FlaskClient) -> None:
    assert client.get("/api/workers/nobody:1:q").get_json()["worker"] is None
    assert "No such worker" in client.get("/workers/nobody:1:q").get_data(as_text=True)


def test_working_lists_only_busy_workers(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)
    register_worker(redis_client, resque.keys, "idle:1:q", started=0)

    data = client.get("/api/working").get_json()

    assert [job["worker"] for job in data["working"]] == [RUBY_WORKER]
    assert data["workers"] == 2


def test_failed_shows_rubys_records_newest_first_with_error_and_backtrace(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)

    data = client.get("/api/failed").get_json()

    assert data["total"] == 2
    newest, oldest = data["records"]
    assert (newest["class"], newest["exception"], newest["queue"]) == (
        "Missing::Job",
        "NameError",
        "critical",
    )
    assert newest["error"].startswith("uninitialized constant Missing\n")
    assert newest["backtrace"][0] == "gems/resque-3.0.0/lib/resque.rb:98:in `block in constantize'"
    assert (oldest["class"], oldest["args"]) == ("FailingJob", [7, {"k": "v"}])
    assert newest["id"].startswith("failed:1:")


def test_failed_page_shows_the_full_error_and_backtrace(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)

    page = client.get("/failed").get_data(as_text=True)

    assert "constant = constant.const_missing(name)" in page
    assert "gems/resque-3.0.0/lib/resque.rb:92:in `each&#39;" in page
    assert "bad input &lt;script&gt;alert(1)&lt;/script&gt; ünïcode" in page


def _seed_failures(resque: Resque, count: int) -> None:
    for n in range(count):
        cls, queue = (("A", "qa"), ("B", "qb"), ("C", "qa"))[n % 3]
        resque.failures.save(
            f'{{"failed_at":"2026/11/27 23:43:29 UTC","payload":{{"class":"{cls}","args":[{n}]}},'
            f'"exception":"E","error":"e{n}","backtrace":[],"worker":"w","queue":"{queue}"}}'.encode(),
            queue,
        )


def test_failed_filters_by_class_and_queue_and_counts_per_class(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 30)

    by_class = client.get("/api/failed?class=B&per_page=5").get_json()
    by_both = client.get("/api/failed?class=C&queue=qa").get_json()

    assert by_class["total"] == 10
    assert [record["args"] for record in by_class["records"]] == [[28], [25], [22], [19], [16]]
    assert by_both["total"] == 10
    assert {record["class"] for record in by_both["records"]} == {"C"}
    summary = by_class["summary"]
    assert summary["classes"] == [
        {"name": "A", "count": 10},
        {"name": "B", "count": 10},
        {"name": "C", "count": 10},
    ]
    assert summary["queues"] == [{"name": "qa", "count": 20}, {"name": "qb", "count": 10}]
    assert summary["coverage"]["complete"] is True


def test_failed_pages_walk_back_in_time(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 30)

    pages = [client.get(f"/api/failed?start={start}&per_page=7").get_json() for start in (0, 7, 28)]

    assert [r["args"][0] for r in pages[0]["records"]] == [29, 28, 27, 26, 25, 24, 23]
    assert [r["args"][0] for r in pages[1]["records"]] == [22, 21, 20, 19, 18, 17, 16]
    assert [r["args"][0] for r in pages[2]["records"]] == [1, 0]


def test_retry_requeues_the_job_and_marks_the_record(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)
    record = client.get("/api/failed").get_json()["records"][1]

    response = post(client, "/actions/retry-failed", {"id": record["id"]})

    assert response.status_code == 303
    assert resque.peek_raw("critical", 0, 5) == [b'{"class":"FailingJob","args":[7,{"k":"v"}]}']
    assert resque.failures.count() == 2
    assert resque.failures.all(0, 1)[0].retried_at == "2026/11/27 23:43:29 UTC"


def test_retry_and_remove_requeues_and_deletes_the_record(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)
    record = client.get("/api/failed").get_json()["records"][0]

    post(client, "/actions/retry-and-remove-failed", {"id": record["id"]})

    assert resque.peek_raw("critical", 0, 5) == [b'{"class":"Missing::Job","args":[1]}']
    assert [r.class_name for r in resque.failures.all()] == ["FailingJob"]


def test_remove_acts_on_the_record_named_even_after_others_moved(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 5)
    target = client.get("/api/failed").get_json()["records"][0]  # args [4], at index 4
    resque.failures.remove(resque.failures.all(0, 1)[0])  # someone removes the oldest: indexes shift

    post(client, "/actions/remove-failed", {"id": target["id"]})

    assert [r.args[0] for r in resque.failures.all()] == [1, 2, 3]


def test_acting_on_a_record_that_is_gone_changes_nothing_and_says_so(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 3)
    target = client.get("/api/failed").get_json()["records"][0]
    resque.failures.remove(target["id"])

    response = post(client, "/actions/remove-failed", {"id": target["id"]})

    assert response.status_code == 303
    assert resque.failures.count() == 2
    assert "removed or changed by someone else" in client.get("/failed").get_data(as_text=True)


def test_a_bare_index_is_not_an_identity(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 3)

    post(client, "/actions/remove-failed", {"id": "0"})

    assert resque.failures.count() == 3


def test_retry_all_and_clear(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 6)

    post(client, "/actions/retry-all-failed", {"queue": "qb"})
    assert resque.size("qb") == 2
    post(client, "/actions/retry-all-failed")
    assert (resque.size("qa"), resque.size("qb")) == (4, 4)
    post(client, "/actions/clear-failed", {"queue": "qa"})
    assert {r.queue for r in resque.failures.all()} == {"qb"}
    post(client, "/actions/clear-failed")
    assert resque.failures.count() == 0


def test_queue_page_pages_through_jobs_with_pretty_args(client: FlaskClient, resque: Resque) -> None:
    resque.enqueue_many("Job", [(n, {"n": n}) for n in range(45)], queue="bulk")

    data = client.get("/api/queues/bulk?start=40&per_page=20").get_json()

    assert data["size"] == 45
    assert [job["args"] for job in data["jobs"]] == [[n, {"n": n}] for n in range(40, 45)]
    assert data["jobs"][0]["position"] == 40
    assert "[44, {&#34;n&#34;: 44}]" in client.get("/queues/bulk?start=40").get_data(as_text=True)


def test_long_arguments_are_shown_pretty_printed_on_demand(client: FlaskClient, resque: Resque) -> None:
    resque.enqueue_to("q", "Job", {"text": "x" * 100, "n": 1})

    page = client.get("/queues/q").get_data(as_text=True)

    assert '<details class="args">' in page
    expected = "[\n  {\n    &#34;text&#34;: &#34;" + "x" * 100 + "&#34;,\n    &#34;n&#34;: 1\n  }\n]"
    assert f"<pre>{expected}</pre>" in page


@pytest.mark.parametrize(
    ("query", "start", "per_page"),
    [
        ("start=-5", 0, 20),
        ("start=abc", 0, 20),
        ("start=1e9", 0, 20),
        ("start=99999999999999999999999999999999", 40, 20),
        ("start=1000", 40, 20),
        ("per_page=1000000", 0, 100),
        ("per_page=0", 0, 1),
        ("per_page=%EF%BC%95", 0, 20),  # a full-width digit is not a number here
        ("start=7&per_page=3", 7, 3),
    ],
)
def test_numeric_parameters_are_clamped(
    client: FlaskClient, resque: Resque, query: str, start: int, per_page: int
) -> None:
    resque.enqueue_many("Job", [(n,) for n in range(45)], queue="bulk")

    data = client.get(f"/api/queues/bulk?{query}").get_json()

    assert (data["start"], data["per_page"]) == (start, per_page)
    assert len(data["jobs"]) <= per_page


def test_queue_page_shows_entries_that_are_not_payloads(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    redis_client.rpush(resque.keys.queue("odd"), b"not json")
    redis_client.sadd(resque.keys.queues, "odd")

    [job] = client.get("/api/queues/odd").get_json()["jobs"]

    assert (job["class"], job["raw"]) == (None, "not json")
    assert "not a job payload" in client.get("/queues/odd").get_data(as_text=True)


def test_remove_queue_action(client: FlaskClient, resque: Resque) -> None:
    resque.enqueue_to("old", "Job", 1)
    resque.enqueue_to("keep", "Job", 1)

    response = post(client, "/actions/remove-queue", {"queue": "old", "next": "/queues/old"})

    assert response.headers["Location"] == "/queues/old"
    assert resque.queues() == ["keep"]
    assert "Removed queue old" in client.get("/queues").get_data(as_text=True)


def test_queues_list_sizes_and_pending(client: FlaskClient, resque: Resque) -> None:
    resque.enqueue_many("Job", [(n,) for n in range(3)], queue="b")
    resque.enqueue_to("a", "Job", 1)

    data = client.get("/api/queues").get_json()

    assert [(queue["name"], queue["size"]) for queue in data["queues"]] == [("a", 1), ("b", 3)]
    assert data["pending"] == 4


def test_stats_txt_uses_resque_webs_format(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    load_ruby_fixtures(redis_client, namespace)
    resque.enqueue_to("email", "EmailJob", 1)

    response = client.get("/stats.txt")

    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == (
        "resque.pending=1\nresque.processed+=3\nresque.failed+=2\nresque.workers=1\nresque.working=1\n"
        "queues.critical=0\nqueues.email=1\n"
    )


def test_stats_page_shows_resque_numbers(client: FlaskClient, redis_client: redis.Redis, namespace: str) -> None:
    load_ruby_fixtures(redis_client, namespace)

    data = client.get("/api/stats").get_json()

    assert data["resque"].items() >= {"processed": 3, "failed": 2, "namespace": namespace}.items()
    assert client.get("/stats").status_code == 200


def test_stats_page_shows_redis_info_from_a_real_server(redis_server: RedisServer) -> None:
    client = create_app(Resque(redis_server.url)).test_client()

    data = client.get("/api/stats").get_json()

    assert data["redis_info_available"] is True
    assert data["redis"]["redis_version"]
    assert "redis_version" in client.get("/stats").get_data(as_text=True)


def test_keys_browser_lists_only_this_namespace(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    resque.enqueue_to("email", "EmailJob", 1)
    redis_client.set(beside(namespace, "other-app:secret"), "x")
    redis_client.set(f"{namespace}*:x", "y")  # a glob character in another namespace

    data = client.get("/api/stats/keys").get_json()

    assert {key["name"] for key in data["keys"]} == {f"{namespace}:queue:email", f"{namespace}:queues"}
    assert {key["short"]: (key["type"], key["size"]) for key in data["keys"]} == {
        "queue:email": ("list", 1),
        "queues": ("set", 1),
    }


def test_keys_browser_pages_with_a_cursor_until_done(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    for n in range(120):
        redis_client.set(f"{namespace}:k{n}", n)
    seen: set[str] = set()
    url = "/api/stats/keys?count=25"
    for _ in range(50):
        data = client.get(url).get_json()
        seen |= {key["name"] for key in data["keys"]}
        if data["next_cursor"] is None:
            break
        url = f"/api/stats/keys?count=25&cursor={data['next_cursor']}"

    assert seen == {f"{namespace}:k{n}" for n in range(120)}


def test_key_view_reads_a_list_a_page_at_a_time(client: FlaskClient, resque: Resque) -> None:
    resque.enqueue_many("Job", [(n,) for n in range(30)], queue="q")

    data = client.get(
        "/api/stats/key", query_string={"name": resque.keys.queue("q"), "start": 25, "count": 10}
    ).get_json()

    assert (data["type"], data["size"], data["next"]) == ("list", 30, None)
    assert [item["field"] for item in data["items"]] == ["25", "26", "27", "28", "29"]


def test_health_needs_no_credentials_and_says_ok(anonymous: FlaskClient) -> None:
    response = anonymous.get("/health")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok", "redis": "ok"})


def _unreachable() -> Resque:
    return Resque("redis://127.0.0.1:1/0", socket_timeout=0.5)


def test_health_is_503_when_redis_is_unreachable() -> None:
    response = create_app(_unreachable()).test_client().get("/health")

    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_pages_say_redis_is_unreachable_with_503() -> None:
    client = create_app(_unreachable()).test_client()

    page = client.get("/overview")
    api = client.get("/api/overview")

    assert page.status_code == api.status_code == 503
    assert "Redis is unreachable" in page.get_data(as_text=True)
    assert "cannot reach" in api.get_json()["error"]


def test_live_pages_refresh_their_body_from_a_fragment(client: FlaskClient) -> None:
    page = client.get("/overview").get_data(as_text=True)
    fragment = client.get("/overview?partial=1").get_data(as_text=True)

    assert 'data-live-url="/overview?partial=1"' in page
    assert 'data-live-interval="2"' in page
    assert "<html" not in fragment
    assert "Queues" in fragment


@pytest.mark.parametrize(("refresh", "shown"), [("0", None), ("5", "5"), ("999", "60"), ("-1", None), ("x", "2")])
def test_the_refresh_interval_is_clamped(client: FlaskClient, refresh: str, shown: str | None) -> None:
    page = client.get(f"/overview?refresh={refresh}").get_data(as_text=True)

    if shown is None:
        assert "data-live-url" not in page
    else:
        assert f'data-live-interval="{shown}"' in page


def test_multi_queue_failure_backend(redis_client: redis.Redis, clock: ManualClock, namespace: str) -> None:
    resque = Resque(redis_client, namespace=namespace, clock=clock, failure_backend="redis_multi_queue")
    _seed_failures(resque, 6)
    client = create_app(resque).test_client()

    everything = client.get("/api/failed").get_json()
    qb = client.get("/api/failed?queue=qb").get_json()

    assert everything["total"] == 6
    assert sorted(everything["lists"]) == ["qa_failed", "qb_failed"]
    assert [record["args"][0] for record in qb["records"]] == [4, 1]


def test_queues_lists_each_failed_queue_with_the_multi_queue_backend_like_resque_web(
    redis_client: redis.Redis, clock: ManualClock, namespace: str
) -> None:
    resque = Resque(redis_client, namespace=namespace, clock=clock, failure_backend="redis_multi_queue")
    _seed_failures(resque, 3)
    client = create_app(resque).test_client()

    data = client.get("/api/queues").get_json()
    page = client.get("/queues").get_data(as_text=True)

    assert data["failed_lists"] == [
        {"name": "qa_failed", "queue": "qa", "size": 2},
        {"name": "qb_failed", "queue": "qb", "size": 1},
    ]
    assert '<a href="/failed?queue=qa">qa_failed</a>' in page
    assert '<a href="/failed?queue=qb">qb_failed</a>' in page


@pytest.mark.parametrize(
    "path", ["/stats/resque", "/stats/redis", "/stats/keys", "/working/", "/queues/", "/overview/"]
)
def test_resque_webs_paths_answer(client: FlaskClient, path: str) -> None:
    # resque-web serves /stats/:id and every page with or without a trailing slash.
    assert client.get(path).status_code == 200


def test_the_dashboard_refuses_a_store_without_redis() -> None:
    with pytest.raises(ConfigurationError, match="reads Redis directly"):
        create_app(Resque(store=MemoryStore()))


def test_the_app_can_be_built_on_fakeredis() -> None:
    assert create_app(Resque(fakeredis.FakeRedis())).test_client().get("/overview").status_code == 200


def test_a_filter_over_many_failures_searches_newest_first_and_says_how_far_it_got(resque: Resque) -> None:
    _seed_failures(resque, 2500)
    client = create_app(resque, limits=Limits(index_budget=1000, index_seconds=None)).test_client()

    first = client.get("/api/failed?class=A&per_page=3").get_json()
    page = client.get("/failed?class=A").get_data(as_text=True)
    client.get("/api/failed?class=A")
    last = client.get("/api/failed?class=A&per_page=3").get_json()

    assert first["coverage"] == {"indexed": 1000, "total": 2500, "complete": False}
    assert [record["args"][0] for record in first["records"]] == [2499, 2496, 2493]
    assert "Searched the newest 2,000 of 2,500 records so far" in page
    assert last["coverage"]["complete"] is True
    assert last["total"] == 834


def test_mounted_under_a_path_links_and_redirects_stay_under_it(resque: Resque) -> None:
    host = Flask("host_app")
    host.wsgi_app = DispatcherMiddleware(host.wsgi_app, {"/resque": create_app(resque, secret_key="k")})  # type: ignore[method-assign]
    client = host.test_client()
    resque.enqueue_to("mounted", "Job", 1)

    page = client.get("/resque/queues").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/resque/actions/remove-queue",
        data={"csrf_token": token.group(1), "queue": "mounted", "next": "/queues"},
        headers={"Origin": "http://localhost"},
    )

    assert 'href="/resque/queues/mounted"' in page
    assert response.status_code == 303
    assert response.headers["Location"] == "/resque/queues"
    assert resque.queues() == []


def test_a_ruby_dirty_exit_failure_is_shown(client: FlaskClient, redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("worker_unregistered_while_busy.json")["keys"], namespace)

    [record] = client.get("/api/failed").get_json()["records"]

    assert (record["exception"], record["class"], record["queue"]) == ("Resque::DirtyExit", "EmailJob", "email")
    assert "Resque::DirtyExit" in client.get("/failed").get_data(as_text=True)


def test_the_key_browser_shows_resque_schedulers_keys(
    client: FlaskClient, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    listed = {key["short"]: key["type"] for key in client.get("/api/stats/keys").get_json()["keys"]}
    schedule = client.get("/api/stats/key", query_string={"name": Keys(namespace).delayed_schedule}).get_json()

    assert listed["delayed_queue_schedule"] == "zset"
    assert listed["delayed:1893456000"] == "list"
    assert [(item["field"], item["value"]) for item in schedule["items"]] == [
        ("1796427809", "1796427809"),
        ("1893456000", "1893456000"),
    ]


def test_bulk_actions_are_not_offered_under_a_class_filter(client: FlaskClient, resque: Resque) -> None:
    _seed_failures(resque, 3)

    assert "Clear all" in client.get("/failed").get_data(as_text=True)
    assert "Clear qa" in client.get("/failed?queue=qa").get_data(as_text=True)
    filtered = client.get("/failed?class=A").get_data(as_text=True)
    assert "Clear" not in filtered
    assert "Retry all" not in filtered
