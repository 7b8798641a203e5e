"""The unit and consumer suites again, on PostgreSQL: row locks, partial indexes and
constraints behave differently there than on SQLite, and production runs there. Tests that
touch no database (the pure engine, the figures, the protocol) already ran in the main pass
and would only run the same Python again: the rerun leaves them out (tests/conftest.py)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import POSTGRES_URL, in_ci

REPO = Path(__file__).resolve().parents[2]
SUITES = ["tests/routing", "tests/contactcenter", "tests/channels_app", "tests/supervisor"]


@pytest.mark.postgres
@pytest.mark.skipif(
    not (in_ci() or os.environ.get("POSTGRES_RERUN_HERE")),
    reason="the PostgreSQL rerun of the unit suites runs in CI (CI=true), or with "
    "POSTGRES_RERUN_HERE=1; the PostgreSQL-only tests of the other suites run everywhere",
)
def test_unit_and_consumer_suites_pass_on_postgresql() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "REDIS_URL" and not key.startswith("PYTEST_XDIST")
    }
    env.update(
        DATABASE_URL=POSTGRES_URL,
        SECRET_KEY=secrets.token_urlsafe(40),
        POSTGRES_RERUN="1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db", *SUITES],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
