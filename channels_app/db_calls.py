"""How the websocket consumers call synchronous services: off the event loop, on the
process's database threads.

Channels runs every ``database_sync_to_async`` call of a process on one thread, so a floor of
2,000 consoles and their dashboards queued seconds deep behind each other's calls. In the ASGI
server on PostgreSQL (settings.CONSUMER_DB_THREADS) the calls share a pool of threads instead,
each taking a pooled connection for the call. Elsewhere (SQLite, tests, which must see their
own transaction) the one thread stays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _database_threads() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.CONSUMER_DB_THREADS, thread_name_prefix="consumer-db"
            )
        return _executor


def db_call(function: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``function`` as a coroutine function that runs it on a database thread (connections
    closed or handed back to the pool around it, as ``database_sync_to_async`` does)."""
    if settings.CONSUMER_DB_THREADS:
        return database_sync_to_async(
            function, thread_sensitive=False, executor=_database_threads()
        )
    return database_sync_to_async(function)
