"""Deploy markers: recorded newest first, capped, and read back skipping entries not written by us."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from resque_impl.cli import main
from resque_impl.job_metrics import Deploy, mark_deploy, read_deploys
from resque_impl.job_metrics.layout import MAX_DEPLOYS
from resque_impl.testing import RedisServer


def test_deploys_read_back_newest_first(store: Any) -> None:
    mark_deploy(store, "v1", at=100.0)
    mark_deploy(store, "v2", at=200.0)
    assert read_deploys(store) == ([Deploy("v2", 200.0), Deploy("v1", 100.0)], 0)


def test_only_the_latest_markers_are_kept(store: Any) -> None:
    for number in range(MAX_DEPLOYS + 5):
        mark_deploy(store, f"v{number}", at=float(number))
    deploys, _ = read_deploys(store)
    assert len(deploys) == MAX_DEPLOYS
    assert deploys[0].label == f"v{MAX_DEPLOYS + 4}"


def test_foreign_entries_are_skipped_and_counted(store: Any) -> None:
    mark_deploy(store, "v1", at=100.0)
    store.push_capped(store.keys.deploys, "not json", 10, 60)
    store.push_capped(store.keys.deploys, '{"label": 3, "at": 1}', 10, 60)
    assert read_deploys(store) == ([Deploy("v1", 100.0)], 2)


def test_an_empty_label_is_refused(store: Any) -> None:
    with pytest.raises(ValueError, match="empty"):
        mark_deploy(store, "  ", at=1.0)


def test_mark_deploy_command_records_on_the_redis_clock(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.flushall()
    result = CliRunner().invoke(main, ["--redis", redis_server.url, "mark-deploy", "v1.2.3"])
    assert result.exit_code == 0, result.output
    assert "marked deploy 'v1.2.3'" in result.output
    (item,) = client.lrange("resque:metrics:deploys", 0, -1)
    assert b'"label":"v1.2.3"' in item
    assert 0 < client.ttl("resque:metrics:deploys") <= 90 * 86400
    client.close()
