"""asyncio support: :class:`AsyncResque`, the producer API for async web apps (FastAPI, aiohttp...).

See ``docs/async.md``.
"""

from resque_impl.aio.client import AsyncResque
from resque_impl.aio.connection import AsyncConnection, connect_async

__all__ = ["AsyncConnection", "AsyncResque", "connect_async"]
