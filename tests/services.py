"""Which outside services this machine has, and what a test does when one is missing.

Under CI=true a missing PostgreSQL, Redis or Chromium fails the test that needs it; on a laptop
without them the test is skipped with the reason.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


@functools.cache
def missing(marker: str) -> str | None:
    """Why the service behind a marker is unusable here, or None when it is usable."""
    if marker == "postgres":
        if not _port_open(POSTGRES_URL, 5432):
            return f"PostgreSQL is not reachable at {POSTGRES_URL}"
        try:
            import psycopg

            with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
                connection.execute("select 1")
        except Exception as exc:
            return f"PostgreSQL at {POSTGRES_URL} refused: {exc}"
    elif marker == "redis":
        if not _port_open(REDIS_URL, 6379):
            return f"Redis is not reachable at {REDIS_URL}"
    elif marker == "browser":
        if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
            return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def require(marker: str) -> None:
    reason = missing(marker)
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)
