"""Testing your jobs: fake and inline modes, virtual time, and helpers for this project's own tests.

::

    from resque_impl.testing import fake_mode, inline_mode

    with fake_mode() as fake:                 # every Resque in the process captures its jobs
        app.signup("ann@example.com")
        fake.assert_enqueued(WelcomeEmail, "ann@example.com")
        fake.drain()

With pytest, the plugin does this for you (``pytest --resque-inline``, fixtures ``resque_fake``,
``resque_inline``, ``resque_clock``...): see the README's "Testing your jobs".
"""

from resque_impl.testing.clock import VirtualClock
from resque_impl.testing.dump import dump_keys, load_keys
from resque_impl.testing.errors import (
    DrainLimitError,
    InlineDepthError,
    JobFailedError,
    NotRunInlineWarning,
    SandboxInactiveError,
    StrictInlineError,
    TimelineLimitError,
)
from resque_impl.testing.faults import FaultInjectionError, FaultInjector, Killed, Recovery
from resque_impl.testing.performed import Performed
from resque_impl.testing.redis_server import RedisServer, RedisServerUnavailable
from resque_impl.testing.runner import InProcessWorker
from resque_impl.testing.sandbox import Sandbox, active_sandbox, fake_mode, inline_mode

__all__ = [
    # test modes
    "InProcessWorker",
    "Performed",
    "Sandbox",
    "VirtualClock",
    "active_sandbox",
    "fake_mode",
    "inline_mode",
    # fault injection
    "FaultInjector",
    "Killed",
    "Recovery",
    # errors
    "DrainLimitError",
    "FaultInjectionError",
    "InlineDepthError",
    "JobFailedError",
    "NotRunInlineWarning",
    "SandboxInactiveError",
    "StrictInlineError",
    "TimelineLimitError",
    # a private redis-server and database snapshots
    "RedisServer",
    "RedisServerUnavailable",
    "dump_keys",
    "load_keys",
]
