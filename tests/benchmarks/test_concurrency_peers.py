"""``python -m benchmarks run --only concurrency-peers``: one worker process of N slots beside Dramatiq's,
Celery's and arq's, each started by its own CLI on the same private redis-server and timed from its first
job's start to its last job's end. Small sizes: these check the machinery, not the figures."""

from __future__ import annotations

import pytest

from benchmarks import concurrency_peers
from benchmarks._common import installed_version

pytestmark = pytest.mark.timeout(300)


def test_ours_is_timed_at_every_n_with_its_targets_and_no_peer_when_left_out() -> None:
    rows = {row.name.strip(): row for row in concurrency_peers.run(per_slot=4, runs=1, with_peers=False)}
    for n in concurrency_peers.THREADS:
        assert rows[f"jobs waiting 20 ms, ours --concurrency {n} (threads)"].value > 0
        assert rows[f"/ {n} x 1/20 ms"].target == ">= 0.9x"
        # The same job on bare threads, no queue: the ceiling the machine allows now.
        assert rows[f"bare threads, no queue (the ceiling) / {n} x 1/20 ms"].value > 0
        assert rows[f"share of the ceiling at N = {n} (ours / bare threads)"].value > 0
    for n in concurrency_peers.ASYNC:
        assert rows[f"async jobs awaiting 20 ms, ours --concurrency {n} (event loop)"].value > 0
    assert rows["--concurrency 10 / 1"].target == ">= 0.95x"
    assert not [name for name in rows if name.startswith(("Dramatiq", "Celery", "arq", "ours /"))]


@pytest.mark.slow
def test_each_installed_peer_is_started_by_its_cli_and_set_beside_ours() -> None:
    installed = [peer for peer in concurrency_peers.PEERS if installed_version(peer)]
    if not installed:
        pytest.skip("none of Dramatiq, Celery, arq is installed (pip install -e '.[bench]')")
    rows = {row.name.strip(): row for row in concurrency_peers.run(per_slot=4, runs=1)}
    labels = {"dramatiq": "Dramatiq", "celery": "Celery", "arq": "arq"}
    for peer in installed:
        ratios = [row for name, row in rows.items() if name.startswith(f"ours / {labels[peer]} at N = ")]
        assert len(ratios) == 2
        assert all(row.value > 0 and row.target == "> 1x" for row in ratios)
