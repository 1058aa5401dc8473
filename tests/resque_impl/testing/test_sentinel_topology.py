"""``SentinelTopology(fast_demotion=True)``: sentinels that look at every server each second and correct
a server reporting the wrong role after 1 s, so an old primary rejoins about 1 s after a failover."""

from __future__ import annotations

from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology


def test_fast_demotion_sets_every_sentinels_info_and_hello_periods(redis_server: RedisServer) -> None:
    # (``redis_server`` only to skip or fail as every real-server test does without a redis-server.)
    with SentinelTopology(fast_demotion=True) as topology:
        for sentinel in topology.sentinels:
            with sentinel.client() as client:
                periods = client.execute_command("SENTINEL", "DEBUG")
            assert (periods[b"INFO-PERIOD"], periods[b"PUBLISH-PERIOD"]) == (b"1000", b"250")
