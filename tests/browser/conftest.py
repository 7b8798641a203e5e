from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.services import CHROMIUM

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEMO_TRAFFIC"}
    }
    env.update(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_SETTINGS_MODULE="contactcenter.config.settings",
        ROUTING_SWEEP_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (its WAL included), through SQLite's backup."""
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)


def migrate_and_seed(env: dict[str, str]) -> None:
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=REPO, check=True)
    subprocess.run([*manage, "seed_demo", "--no-history"], env=env, cwd=REPO, check=True)


@contextmanager
def running_server(
    tmp_path: Path, *, database: Path | None = None, **extra_env: str
) -> Iterator[str]:
    """A real Daphne on a fresh SQLite database with the demo data (no demo traffic).

    ``database``: start from a copy of this migrated, seeded database instead of migrating
    and seeding afresh (the session's ``seeded_database``).
    """
    env = {**embedded_env(tmp_path), **extra_env}
    if database is None:
        migrate_and_seed(env)
    else:
        copy_database(database, Path(env["SQLITE_PATH"]))
    port = free_port()
    log = (tmp_path / "daphne.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "contactcenter.config.asgi:application",
        ],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz/", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "daphne.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory) -> Path:
    """The demo data, migrated and seeded once for the whole session: each module's server
    starts from its own copy, so no module sees another's changes."""
    tmp_path = tmp_path_factory.mktemp("seeded-database")
    env = embedded_env(tmp_path)
    migrate_and_seed(env)
    return Path(env["SQLITE_PATH"])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory, seeded_database) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser-server"), database=seeded_database) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one module; each test opens contexts of its own. Not for the whole
    session: Playwright's sync API keeps an event loop running in the thread while it is
    open, and Django refuses database work from a thread with a running loop, which would
    fail every test a worker runs after the browser modules."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
