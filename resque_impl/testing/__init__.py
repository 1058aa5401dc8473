"""Test support for applications and for this project: a throwaway ``redis-server`` and more."""

from resque_impl.testing.dump import dump_keys, load_keys
from resque_impl.testing.redis_server import RedisServer, RedisServerUnavailable

__all__ = ["RedisServer", "RedisServerUnavailable", "dump_keys", "load_keys"]
