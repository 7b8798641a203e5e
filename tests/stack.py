"""The production stack as a black box: Daphne, Celery workers and Celery beat as separate
processes on PostgreSQL and Redis, driven over HTTP and websockets only.

Shared by the integration tests and the benchmarks, so nothing here needs a pytest fixture:
throwaway outside services (a PostgreSQL database, a flushed Redis logical database) are
context managers, the processes are ``running_stack``, the browsers are ``Peer`` (a
synchronous websocket client). ``manage`` reports a failed command with ``pytest.fail``,
which outside pytest is an exception carrying the command's output.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.services import POSTGRES_URL
from tests.services import REDIS_URL as SERVER_REDIS_URL

REPO = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30
COMMAND_SECONDS = 120
STOP_SECONDS = 10

BEAT_STARTED = re.compile(rb"beat: Starting\.\.\.")
PRINTED_VALUE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)

# Prepended to every `shell_script`: lets a script log a user in as the login view would.
SESSION_HELPER = textwrap.dedent(
    """
    from django.contrib.sessions.backends.db import SessionStore


    def new_session_key(user):
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.save()
        return session.session_key
    """
)


# --- outside services -----------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(admin_url: str = POSTGRES_URL, prefix: str = "cc_it") -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database on `admin_url`'s server, dropped afterwards.

    Yields its URL. The drop forces out connections that the stack's processes left behind.
    """
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def redis_db_url(db: int, server_url: str = SERVER_REDIS_URL) -> str:
    """`server_url` with its logical database replaced by `db`."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{db}", query="", fragment=""))


def flush_redis_db(url: str) -> None:
    """Empty the logical database that `url` names (and only that one)."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def flushed_redis_db(db: int, server_url: str = SERVER_REDIS_URL) -> Iterator[str]:
    """Redis logical database `db`, empty before and after; yields its URL.

    Use a db of its own, never 0, so that a developer's Redis data is never flushed.
    """
    url = redis_db_url(db, server_url)
    flush_redis_db(url)
    try:
        yield url
    finally:
        flush_redis_db(url)


def production_env(
    database_url: str, redis_url: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment set up for production mode on these services.

    `extra` is applied last, so it can override anything here (e.g. ROUTING_SWEEP_SECONDS).
    """
    env = dict(os.environ)
    # Celery reads these from the environment too; the stack's settings must win.
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SQLITE_PATH"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="contactcenter.config.settings",
        PYTHONUNBUFFERED="1",
        # Beat runs the sweep in production mode; a second one inside Daphne would hide
        # whether beat and the worker do their job.
        EMBEDDED_TICKER="0",
        DEMO_TRAFFIC="0",
    )
    env.update(extra or {})
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command; its output is in the failure message if it fails."""
    command = [sys.executable, "manage.py", *args]
    try:
        result = subprocess.run(
            command,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        pytest.fail(
            f"{' '.join(args)} exited with {exc.returncode}\n"
            f"stdout:\n{exc.stdout[-4000:]}\nstderr:\n{exc.stderr[-4000:]}",
            pytrace=False,
        )
    return result.stdout


def migrate_and_seed(env: dict[str, str]) -> None:
    """Migrate the stack's database and load the demo data without past cases."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--no-history")


def shell_script(env: dict[str, str], script: str) -> dict[str, str]:
    """Run `script` in ``manage.py shell``; returns the ``NAME=value`` lines it printed.

    The script may call ``new_session_key(user)`` (SESSION_HELPER) to log a user in: the key
    goes in a ``sessionid`` cookie.
    """
    output = manage(env, "shell", "-c", SESSION_HELPER + textwrap.dedent(script))
    return dict(PRINTED_VALUE.findall(output))


# --- the processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(path: Path, limit: int = 4000) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"(no log: {exc})"
    return data[-limit:].decode("utf-8", errors="replace")


@dataclass
class Stack:
    """Daphne, `workers` Celery workers and (if `beat`) Celery beat, each a direct child (no
    shell in between), each logging to ``<logs>/<name>.log``.

    Every worker is a process of its own with one pool process, the way production scales
    out: more workers means more machines, not a bigger pool. With ``daphnes`` above 1, more
    Daphne processes serve the same application, each on a port of its own (``ports``; the
    first is ``port``), named ``daphne``, ``daphne2``, ...: clients spread over them as a load
    balancer would spread browsers.
    """

    env: dict[str, str]
    logs: Path
    workers: int = 1
    beat: bool = True
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    daphnes: int = 1
    extra_ports: list[int] = field(default_factory=list)
    # Applied on top of `env` for the Daphne processes only (e.g. their database settings).
    daphne_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        while len(self.extra_ports) < self.daphnes - 1:
            self.extra_ports.append(free_port())

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ports(self) -> list[int]:
        return [self.port, *self.extra_ports]

    @property
    def daphne_names(self) -> list[str]:
        return ["daphne", *(f"daphne{number}" for number in range(2, self.daphnes + 1))]

    @property
    def worker_names(self) -> list[str]:
        return [f"worker{number}" for number in range(1, self.workers + 1)]

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def commands(self) -> dict[str, list[str]]:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "contactcenter"]
        commands = {
            name: [
                python,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "contactcenter.config.asgi:application",
            ]
            for name, port in zip(self.daphne_names, self.ports, strict=True)
        }
        for name in self.worker_names:
            commands[name] = [
                *celery,
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                # Node names must differ, or the workers' control messages collide.
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        if self.beat:
            commands["beat"] = [
                *celery,
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.logs / "beat-schedule"),
            ]
        return commands

    def start(self) -> None:
        for name, command in self.commands().items():
            with self.log(name).open("wb") as log:
                env = {**self.env, **self.daphne_env} if name in self.daphne_names else self.env
                self.processes[name] = subprocess.Popen(
                    command,
                    cwd=REPO,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own process group, so that a kill also reaches the worker's pool.
                    start_new_session=True,
                )

    def wait_until_ready(self) -> None:
        checks: dict[str, Callable[[], bool]] = {
            "Daphne answers GET /healthz/ with 200": self.healthy,
        }
        for port in self.extra_ports:
            checks[f"Daphne on port {port} answers GET /healthz/ with 200"] = lambda port=port: (
                self.healthy(f"http://127.0.0.1:{port}")
            )
        for name in self.worker_names:
            ready = re.compile(rb"%s@\S+ ready\." % name.encode())
            checks[f"{name} logs 'ready'"] = self.log_matcher(name, ready)
        if self.beat:
            checks["beat logs 'Starting...'"] = self.log_matcher("beat", BEAT_STARTED)
        deadline = time.monotonic() + STARTUP_SECONDS
        while checks and time.monotonic() < deadline:
            self.assert_running()
            checks = {label: check for label, check in checks.items() if not check()}
            if checks:
                time.sleep(0.2)
        assert not checks, (
            f"not ready after {STARTUP_SECONDS} s: {', '.join(checks)} did not happen\n"
            + self.log_tails()
        )

    def log_matcher(self, name: str, pattern: re.Pattern[bytes]) -> Callable[[], bool]:
        return lambda: bool(pattern.search(self.log(name).read_bytes()))

    def healthy(self, origin: str | None = None) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{origin or self.origin}/healthz/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def assert_running(self) -> None:
        exited = {
            name: proc.returncode
            for name, proc in self.processes.items()
            if proc.poll() is not None
        }
        assert not exited, f"processes exited early: {exited}\n" + self.log_tails()

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_SECONDS)

    def log_tails(self) -> str:
        return "\n".join(
            f"----- {name} log (tail) -----\n{log_tail(self.log(name))}" for name in self.processes
        )


@contextlib.contextmanager
def running_stack(
    env: dict[str, str],
    logs: Path,
    *,
    workers: int = 1,
    beat: bool = True,
    daphnes: int = 1,
    daphne_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """The processes, ready; on any failure their logs are printed; always stopped."""
    stack = Stack(
        env=env,
        logs=logs,
        workers=workers,
        beat=beat,
        daphnes=daphnes,
        daphne_env=dict(daphne_env or {}),
    )
    try:
        stack.start()
        stack.wait_until_ready()
        yield stack
    except BaseException:
        print(stack.log_tails())
        raise
    finally:
        stack.stop()


# --- websocket clients ----------------------------------------------------------------------


class Peer:
    """One websocket client. Frames read while waiting for another type stay in a backlog, so a
    later wait still finds them: pushes from several processes arrive in any order."""

    def __init__(self, name: str, ws: ClientConnection) -> None:
        self.name = name
        self.ws = ws
        self.backlog: list[dict[str, Any]] = []

    def send(self, frame_type: str, data: dict[str, Any]) -> None:
        self.ws.send(json.dumps({"type": frame_type, "data": data}))

    def next_frame(self, timeout: float) -> dict[str, Any]:
        try:
            raw = self.ws.recv(timeout=timeout)
        except ConnectionClosed as exc:
            raise AssertionError(self.closed_message(exc)) from exc
        frame = json.loads(raw)
        if frame.get("type") == "error":
            raise AssertionError(f"{self.name} socket got an error frame: {frame['data']}")
        return frame

    def closed_message(self, exc: ConnectionClosed) -> str:
        hint = ""
        if exc.rcvd is not None and exc.rcvd.code == 1011:
            hint = (
                " (1011 is a server error: the consumer crashed; an idle socket dying like this "
                "is STACK-NOTES trap 1, the Redis layer's socket timeout)"
            )
        return f"the {self.name} socket closed: {exc}{hint}"

    def assert_open(self) -> None:
        try:
            answered = self.ws.ping().wait(timeout=5)
        except ConnectionClosed as exc:
            raise AssertionError(self.closed_message(exc)) from exc
        assert answered, f"the {self.name} socket did not answer a ping within 5 s"

    def stay_open(self, seconds: float) -> None:
        """Read (and keep) whatever arrives for `seconds`; fail if the socket closes."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                self.backlog.append(self.next_frame(remaining))
        self.assert_open()


def receive_until(
    peer: Peer,
    frame_type: str,
    timeout: float,
    where: Callable[[dict[str, Any]], bool] = lambda data: True,
) -> dict[str, Any]:
    """The data of the first frame of `frame_type` (matching `where`), skipping other frames.

    Skipped frames stay in the peer's backlog for later waits.
    """
    for index, frame in enumerate(peer.backlog):
        if frame["type"] == frame_type and where(frame["data"]):
            del peer.backlog[index]
            return frame["data"]
    seen = len(peer.backlog)
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frame = peer.next_frame(remaining)
        except TimeoutError:
            break
        if frame["type"] == frame_type and where(frame["data"]):
            return frame["data"]
        peer.backlog.append(frame)
    skipped = [f"{frame['type']} {frame['data']}" for frame in peer.backlog[seen:]]
    raise AssertionError(
        f"the {peer.name} socket got no matching {frame_type} within {timeout} s; "
        f"meanwhile it got: {skipped or 'nothing'}"
    )


def ws_url(stack: Stack, path: str) -> str:
    return f"ws://127.0.0.1:{stack.port}{path}"


def session_cookie(session_key: str) -> dict[str, str]:
    """The header that logs a websocket in, as the browser's session cookie does."""
    return {"Cookie": f"sessionid={session_key}"}


@contextlib.contextmanager
def open_socket(
    stack: Stack, name: str, path: str, headers: dict[str, str] | None = None
) -> Iterator[Peer]:
    with connect(
        ws_url(stack, path),
        origin=stack.origin,
        additional_headers=headers,
        proxy=None,
        open_timeout=10,
        close_timeout=5,
    ) as ws:
        yield Peer(name, ws)


def start_chat(visitor: Peer, *, name: str, email: str, body: str) -> dict[str, Any]:
    """Start a visitor chat and send its first message; returns chat.started's data."""
    visitor.send("chat.start", {"name": name, "email": email})
    started = receive_until(visitor, "chat.started", 5)
    assert started["customer_name"] == name, started
    visitor.send("chat.message", {"body": body})
    own = receive_until(visitor, "message.created", 5, where=lambda d: d["sender"] == "customer")
    assert own["body"] == body, own
    assert own["interaction_id"] == started["interaction_id"], own
    status = receive_until(visitor, "chat.status", 5)
    assert status["state"] == "waiting", f"a new chat should wait in line first: {status}"
    return started
