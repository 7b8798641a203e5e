"""Production mode end to end: Daphne, a Celery worker and Celery beat as separate processes on
PostgreSQL and Redis, driven only through the websockets that the chat page and the agent
console use.

Black box: the test owns a fresh database and a Redis logical database, prepares them with
management commands, and talks to the processes over HTTP and websockets only. What it proves:
a visitor's first message reaches the worker through the broker, the worker's offer reaches
Daphne through the Redis channel layer, the whole chat slice works across processes, beat
schedules the sweep that times out an unanswered offer, and an idle socket survives the Redis
layer's blocking reads (STACK-NOTES trap 1).
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
from collections.abc import Callable, Iterator
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
from tests.services import REDIS_URL as TEST_REDIS_URL

REPO = Path(__file__).resolve().parents[2]
# A logical database of its own, so that a developer's Redis data (db 0) is never flushed.
REDIS_DB = 11
PUSH_TIMEOUT_SECONDS = 4
STARTUP_SECONDS = 30
COMMAND_SECONDS = 120
STOP_SECONDS = 10
# Longer than the 5 s blocking read of channels_redis: with redis-py's default socket timeout
# an idle consumer dies with 1011 after 5-8 s (STACK-NOTES trap 1).
IDLE_SECONDS = 8

WORKER_READY = re.compile(rb"celery@\S+ ready\.")
BEAT_STARTED = re.compile(rb"beat: Starting\.\.\.")

PREPARE_SCRIPT = textwrap.dedent(
    f"""
    from django.contrib.sessions.backends.db import SessionStore

    from routing.models import Agent, PresenceStatus, RoutingConfig
    from routing.services import set_presence

    updated = RoutingConfig.objects.filter(name="Web chat").update(
        push_timeout_seconds={PUSH_TIMEOUT_SECONDS}
    )
    assert updated == 1, f"expected one 'Web chat' routing configuration, updated {{updated}}"
    agent = Agent.objects.select_related("user").get(user__username="agent01")
    available = PresenceStatus.objects.get(name="Available")
    set_presence(agent=agent, status_id=available.pk)
    user = agent.user
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    print("SESSION_KEY=" + session.session_key)
    """
)


# --- outside services -----------------------------------------------------------------------


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database, dropped afterwards."""
    name = f"cc_it_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(POSTGRES_URL)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis logical database REDIS_DB, empty before and after."""
    parts = urlsplit(TEST_REDIS_URL)
    url = urlunsplit(parts._replace(path=f"/{REDIS_DB}", query="", fragment=""))
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # Celery reads these from the environment too; the test's settings must win.
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SQLITE_PATH"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="contactcenter.settings",
        ROUTING_SWEEP_SECONDS="1",
        PYTHONUNBUFFERED="1",
        # Only beat may run the sweep here: the time-out below proves beat and the worker.
        EMBEDDED_TICKER="0",
        DEMO_TRAFFIC="0",
    )
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


@pytest.fixture
def agent01_session(production_env: dict[str, str]) -> str:
    """Migrate and seed the database; agent01 Available and logged in. Returns the session key."""
    manage(production_env, "migrate", "--noinput")
    manage(production_env, "seed_demo", "--no-history")
    output = manage(production_env, "shell", "-c", PREPARE_SCRIPT)
    match = re.search(r"^SESSION_KEY=(\w+)$", output, re.MULTILINE)
    assert match, f"the setup script printed no session key:\n{output}"
    return match.group(1)


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
    """Daphne, a Celery worker and Celery beat, each a direct child (no shell in between)."""

    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self) -> None:
        python = sys.executable
        commands = {
            "daphne": [
                python,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "contactcenter.asgi:application",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "contactcenter",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "contactcenter",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.logs / "beat-schedule"),
            ],
        }
        for name, command in commands.items():
            with self.log(name).open("wb") as log:
                self.processes[name] = subprocess.Popen(
                    command,
                    cwd=REPO,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own process group, so that a kill also reaches the worker's pool.
                    start_new_session=True,
                )

    def wait_until_ready(self) -> None:
        checks: dict[str, Callable[[], bool]] = {
            "Daphne answers GET /healthz/ with 200": self.healthy,
            "the worker logs 'ready'": lambda: bool(
                WORKER_READY.search(self.log("worker").read_bytes())
            ),
            "beat logs 'Starting...'": lambda: bool(
                BEAT_STARTED.search(self.log("beat").read_bytes())
            ),
        }
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

    def healthy(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.origin}/healthz/", timeout=2) as response:
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
def running_stack(env: dict[str, str], logs: Path) -> Iterator[Stack]:
    """The three processes, ready; on any failure their logs are printed; always stopped."""
    stack = Stack(env=env, logs=logs)
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


@contextlib.contextmanager
def open_socket(
    stack: Stack, name: str, path: str, headers: dict[str, str] | None = None
) -> Iterator[Peer]:
    with connect(
        f"ws://127.0.0.1:{stack.port}{path}",
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


# --- the test -------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
def test_chat_is_routed_answered_closed_and_timed_out_across_daphne_worker_and_beat(
    production_env: dict[str, str], agent01_session: str, tmp_path: Path
) -> None:
    with (
        running_stack(production_env, tmp_path) as stack,
        open_socket(
            stack, "agent", "/ws/agent/", {"Cookie": f"sessionid={agent01_session}"}
        ) as agent,
        open_socket(stack, "visitor Ida", "/ws/chat/") as ida,
    ):
        snapshot = agent.next_frame(timeout=5)
        assert snapshot["type"] == "console.snapshot", f"first agent frame: {snapshot}"
        me = snapshot["data"]["agent"]
        assert me["status_name"] == "Available", f"agent01 should be Available: {me}"
        assert snapshot["data"]["offers"] == [], snapshot
        assert snapshot["data"]["work_items"] == [], snapshot

        # A visitor writes: the enqueue's task runs in the worker, whose offer crosses Redis.
        hello = "Hello from the integration test"
        started = start_chat(ida, name="Ida Integration", email="ida@example.com", body=hello)
        offer = receive_until(
            agent, "offer.created", 15, where=lambda d: d["customer_name"] == "Ida Integration"
        )
        assert offer["preview"] == hello, offer
        assert offer["queue"] == "Web chat", offer
        assert offer["timeout_seconds"] == PUSH_TIMEOUT_SECONDS, offer

        agent.send("offer.accept", {"offer_id": offer["offer_id"]})
        work = receive_until(agent, "work.assigned", 5)
        assert work["work_item_id"] == offer["work_item_id"], work
        assert work["interaction_id"] == started["interaction_id"], work
        assert hello in [message["body"] for message in work["messages"]], work["messages"]
        closed = receive_until(
            agent, "offer.closed", 5, where=lambda d: d["offer_id"] == offer["offer_id"]
        )
        assert closed["outcome"] == "accepted", closed
        connected = receive_until(ida, "chat.status", 5, where=lambda d: d["state"] != "waiting")
        assert connected["state"] == "connected", connected
        assert connected["agent_name"] == me["name"], connected

        reply = "Hi Ida, how can I help?"
        agent.send("message.send", {"work_item_id": work["work_item_id"], "body": reply})
        answer = receive_until(ida, "message.created", 5, where=lambda d: d["sender"] == "agent")
        assert answer["body"] == reply, answer

        agent.send("work.close", {"work_item_id": work["work_item_id"]})
        receive_until(
            agent, "work.closed", 5, where=lambda d: d == {"work_item_id": work["work_item_id"]}
        )
        ended = receive_until(ida, "chat.status", 5, where=lambda d: d["state"] != "connected")
        assert ended["state"] == "closed", ended

        # Nobody answers the next chat: only beat's sweep, run by the worker, can time it out.
        with open_socket(stack, "visitor Olaf", "/ws/chat/") as olaf:
            start_chat(olaf, name="Olaf Unanswered", email="olaf@example.com", body="Anyone?")
            unanswered = receive_until(
                agent, "offer.created", 15, where=lambda d: d["customer_name"] == "Olaf Unanswered"
            )
            offered_at = time.monotonic()
            timed_out = receive_until(
                agent,
                "offer.closed",
                PUSH_TIMEOUT_SECONDS + 8,
                where=lambda d: d["offer_id"] == unanswered["offer_id"],
            )
            assert timed_out["outcome"] == "timed_out", (
                f"the unanswered offer should time out, not {timed_out['outcome']}"
            )
            waited = time.monotonic() - offered_at
            assert waited >= PUSH_TIMEOUT_SECONDS - 1, (
                f"the offer timed out after {waited:.1f} s, before its {PUSH_TIMEOUT_SECONDS} s"
            )

            # agent01 is never offered Olaf's chat again, so the agent socket now idles longer
            # than the Redis layer's 5 s blocking read; it must stay open and still get pushes.
            agent.stay_open(IDLE_SECONDS)
            ida.assert_open()
            olaf.assert_open()
            with open_socket(stack, "visitor Tess", "/ws/chat/") as tess:
                start_chat(tess, name="Tess Later", email="tess@example.com", body="Still there?")
                later = receive_until(
                    agent, "offer.created", 15, where=lambda d: d["customer_name"] == "Tess Later"
                )
                assert later["preview"] == "Still there?", later
