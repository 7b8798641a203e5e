"""A load process of bench/floor.py: agent consoles or supervisor dashboards as real websocket
clients of the stack's Daphne processes, in a process of its own.

    python -m bench.floor_client SPEC.json RESULT.json

SPEC.json (written by bench/floor.py) says the role (``agents`` or ``dashboards``), the
sockets to open (session keys and the Daphne port of each) and how agents behave. Protocol on
stdout, one line each: ``CONNECTED <n>`` now and then while connecting, ``READY`` when every
socket is open and has its first frame (or ``FAILED <reason>``); then the process works the
floor until a line arrives on stdin (or stdin ends), closes its sockets, writes RESULT.json and
prints ``DONE``. Every timestamp is time.time(): the processes share the machine's clock.

Agents do what a person at the console does: set themselves Available on connect, accept each
offer after ``accept_delay`` seconds, send ``messages`` replies spread over a handle time drawn
from ``handle_seconds`` and close the item with the first disposition of their console. They
record when they read each ``offer.created`` (by work item id) and each ``bench.ping`` (the
same-run baseline). Dashboards ask for their page (``dashboard.view``) and record, per work item
id, the first frame that listed it in an agent's row (a ``dashboard.snapshot`` or a
``dashboard.delta`` alike), the size and time of every frame, and the agent ids of their view.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

OPEN_TIMEOUT_SECONDS = 60
FIRST_FRAME_SECONDS = 60
# Daphne drops a handshake that its application has not accepted within 5 s; a console then
# reconnects, as the browser's does, a little later each time.
CONNECT_ATTEMPTS = 10
RECONNECT_SECONDS = 1.0
CPU_SAMPLE_SECONDS = 1.0
MAX_ERRORS_KEPT = 20


def raise_file_limit() -> int:
    """Sockets are files: lift the soft limit to the hard one; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def frame(frame_type: str, data: dict[str, Any]) -> str:
    return json.dumps({"type": frame_type, "data": data})


@dataclass
class Record:
    """What this process saw, written to RESULT.json at the end."""

    offers: list[tuple[int, int, float]] = field(default_factory=list)  # item, agent, read at
    pings: list[tuple[int, float, float]] = field(default_factory=list)  # seq, sent, read at
    seen: dict[int, tuple[int, float]] = field(default_factory=dict)  # item: (agent, first at)
    frames: list[list[tuple[float, int]]] = field(default_factory=list)  # per dashboard
    view_agents: set[int] = field(default_factory=set)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (wall, cpu seconds)
    accepted: int = 0
    closed: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    dropped: int = 0  # sockets that closed before the end
    reconnects: int = 0  # handshakes tried again
    opened: int = 0  # sockets open with their first frame read

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def as_json(self) -> dict[str, Any]:
        return {
            "offers": self.offers,
            "pings": self.pings,
            "seen": {str(item): pair for item, pair in self.seen.items()},
            "frames": self.frames,
            "view_agents": sorted(self.view_agents),
            "cpu": self.cpu,
            "accepted": self.accepted,
            "closed": self.closed,
            "errors": self.errors,
            "error_count": self.error_count,
            "dropped": self.dropped,
            "reconnects": self.reconnects,
        }


async def open_socket(spec: dict[str, Any], port: int, path: str, key: str) -> ClientConnection:
    return await connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=Origin(f"http://127.0.0.1:{port}"),
        additional_headers={"Cookie": f"sessionid={key}"},
        proxy=None,
        open_timeout=OPEN_TIMEOUT_SECONDS,
        close_timeout=2,
        ping_interval=None,
        max_queue=None,  # never stop reading: a full buffer would stall Daphne's sends
        max_size=None,  # a full-floor snapshot is far above the default 1 MiB
    )


async def open_with_retries(
    spec: dict[str, Any], port: int, path: str, key: str, expected: str, record: Record
) -> tuple[ClientConnection, dict[str, Any]]:
    """A socket and its first frame, tried again after a refused or dropped handshake."""
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            ws = await open_socket(spec, port, path, key)
            opened = ws, await first_frame(ws, expected)
            record.opened += 1
            return opened
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
            if attempt == CONNECT_ATTEMPTS:
                raise RuntimeError(
                    f"{path} on port {port}: {attempt} attempts, last {exc!r}"
                ) from exc
            record.reconnects += 1
            await asyncio.sleep(RECONNECT_SECONDS * attempt)
    raise AssertionError("unreachable")


async def first_frame(ws: ClientConnection, expected: str) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), FIRST_FRAME_SECONDS))
    if message["type"] != expected:
        raise RuntimeError(f"expected {expected} first, got {str(message)[:300]}")
    return message["data"]


# --- agents ---------------------------------------------------------------------------------


class Console:
    """One agent's console: reads frames, answers offers, works and closes items."""

    def __init__(self, agent_id: int, ws: ClientConnection, snapshot: dict[str, Any]) -> None:
        self.agent_id = agent_id
        self.ws = ws
        dispositions = snapshot["dispositions"]
        self.disposition_id = dispositions[0]["id"] if dispositions else None
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def read(self, record: Record, behaviour: dict[str, Any], rng: random.Random) -> None:
        try:
            async for raw in self.ws:
                received = time.time()
                message = json.loads(raw)
                kind, data = message["type"], message["data"]
                if kind == "offer.created":
                    record.offers.append((data["work_item_id"], self.agent_id, received))
                    self.spawn(self.work(data, record, behaviour, rng))
                elif kind == "bench.ping":
                    record.pings.append((data["seq"], data["sent"], received))
                elif kind == "error":
                    record.error(f"agent {self.agent_id}: {data}")
        except Exception as exc:  # a reset connection ends the socket like a close
            record.error(f"agent {self.agent_id} read failed: {exc!r}")
        record.dropped += 1

    async def work(
        self,
        offer: dict[str, Any],
        record: Record,
        behaviour: dict[str, Any],
        rng: random.Random,
    ) -> None:
        item_id = offer["work_item_id"]
        try:
            await asyncio.sleep(rng.uniform(*behaviour["accept_delay"]))
            await self.ws.send(frame("offer.accept", {"offer_id": offer["offer_id"]}))
            record.accepted += 1
            handle = rng.uniform(*behaviour["handle_seconds"])
            pause = handle / (behaviour["messages"] + 1)
            for number in range(behaviour["messages"]):
                await asyncio.sleep(pause)
                body = f"Reply {number + 1} to item {item_id}."
                await self.ws.send(frame("message.send", {"work_item_id": item_id, "body": body}))
            await asyncio.sleep(pause)
            close = {"work_item_id": item_id, "disposition_id": self.disposition_id}
            await self.ws.send(frame("work.close", close))
            record.closed += 1
        except Exception as exc:  # the socket closed under the agent: counted, not fatal
            record.error(f"agent {self.agent_id} working item {item_id}: {exc!r}")


async def open_console(
    spec: dict[str, Any],
    agent_id: int,
    key: str,
    port: int,
    gate: asyncio.Semaphore,
    record: Record,
) -> Console:
    async with gate:
        ws, snapshot = await open_with_retries(
            spec, port, "/ws/agent/", key, "console.snapshot", record
        )
        await ws.send(frame("presence.set", {"status_id": spec["available_status_id"]}))
    return Console(agent_id, ws, snapshot)


# --- dashboards -----------------------------------------------------------------------------


def note_rows(data: dict[str, Any], record: Record, received: float) -> None:
    """First sight of each work item in an agent's row, in a snapshot or a delta alike."""
    for row in data.get("agents", []):
        for item in row["items"]:
            if item["work_item_id"] not in record.seen:
                record.seen[item["work_item_id"]] = (row["id"], received)


async def read_dashboard(ws: ClientConnection, number: int, record: Record) -> None:
    frames = record.frames[number]
    try:
        async for raw in ws:
            received = time.time()
            frames.append((received, len(raw)))
            message = json.loads(raw)
            kind, data = message["type"], message["data"]
            if kind in ("dashboard.snapshot", "dashboard.delta"):
                note_rows(data, record, received)
            if kind == "dashboard.snapshot":
                record.view_agents.update(row["id"] for row in data["agents"])
            elif kind == "error":
                # Before the paged protocol, the server refuses dashboard.view: the whole
                # floor is every dashboard's view then.
                record.error(f"dashboard {number}: {data}")
    except Exception as exc:
        record.error(f"dashboard {number} read failed: {exc!r}")
    record.dropped += 1


async def open_dashboard(
    spec: dict[str, Any], number: int, record: Record, gate: asyncio.Semaphore
) -> ClientConnection:
    entry = spec["dashboards"][number]
    async with gate:
        ws, snapshot = await open_with_retries(
            spec,
            entry["port"],
            "/ws/supervisor/",
            entry["session_key"],
            "dashboard.snapshot",
            record,
        )
    record.frames[number].append((time.time(), len(json.dumps(snapshot))))
    view = {"offset": entry["offset"], "limit": spec["page_size"]}
    await ws.send(frame("dashboard.view", view))
    return ws


# --- the process ----------------------------------------------------------------------------


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def sample_cpu(record: Record) -> None:
    while True:
        record.cpu.append((time.time(), cpu_seconds()))
        await asyncio.sleep(CPU_SAMPLE_SECONDS)


async def connect_all(spec: dict[str, Any], record: Record) -> list[Any]:
    """Open every socket (a few at a time, as browsers arriving would); start their readers."""
    gate = asyncio.Semaphore(spec["concurrent_opens"])
    readers: list[asyncio.Task] = []
    if spec["role"] == "agents":
        behaviour, rng = spec["behaviour"], random.Random(spec["seed"])
        opening = [
            open_console(spec, agent_id, key, port, gate, record)
            for agent_id, key, port in spec["agents"]
        ]
        consoles = []
        for done, future in enumerate(asyncio.as_completed(opening), start=1):
            consoles.append(await future)
            if done % 250 == 0:
                say(f"CONNECTED {done}")
        for console in consoles:
            readers.append(asyncio.create_task(console.read(record, behaviour, rng)))
        return [consoles, readers]
    record.frames = [[] for _ in spec["dashboards"]]
    sockets = await asyncio.gather(
        *(open_dashboard(spec, number, record, gate) for number in range(len(spec["dashboards"])))
    )
    for number, ws in enumerate(sockets):
        readers.append(asyncio.create_task(read_dashboard(ws, number, record)))
    return [sockets, readers]


async def run(spec: dict[str, Any], result_path: Path) -> None:
    record = Record()
    sampler = asyncio.create_task(sample_cpu(record))
    try:
        sockets, readers = await asyncio.wait_for(
            connect_all(spec, record), spec["connect_timeout"]
        )
    except Exception as exc:
        wanted = len(spec.get("agents", [])) + len(spec.get("dashboards", []))
        say(
            f"FAILED {record.opened} of {wanted} sockets open after "
            f"{spec['connect_timeout']:g} s ({record.reconnects} handshakes tried again); "
            f"{type(exc).__name__}: {exc}"
        )
        return
    say("READY")
    await asyncio.to_thread(sys.stdin.readline)
    # What was read after the stop line is not part of any phase the figures look at.
    closed_before = record.dropped
    for reader in readers:
        reader.cancel()
    websockets_ = [getattr(entry, "ws", entry) for entry in sockets]
    await asyncio.gather(*(ws.close() for ws in websockets_), return_exceptions=True)
    sampler.cancel()
    record.cpu.append((time.time(), cpu_seconds()))
    record.dropped = closed_before
    result_path.write_text(json.dumps(record.as_json()))
    say("DONE")


def main() -> None:
    spec_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    raise_file_limit()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(spec, result_path))


if __name__ == "__main__":
    main()
