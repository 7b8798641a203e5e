"""The arrivals of bench/floor.py: customers' messages posted to the public intake API
(``POST /api/interactions/`` with a DRF token, as any channel's provider integration posts
them), over HTTP to the stack's Daphne processes in turn, from a process of its own.

    python -m bench.floor_feeder SPEC.json RESULT.json

SPEC.json: ``ports``, ``token``, ``channel``, ``phases`` (a list of ``[name, rate, seconds]``,
run one after the other), ``request_timeout`` and ``concurrency``: the requests in flight to
one port at most, as a provider's pool of webhook senders has a size (each request in flight
holds a database connection in Daphne). Protocol on stdout: ``READY`` once every
port answered a health check; then it waits for one line on stdin (the go signal; end of
input makes it exit), runs the phases as an open loop (arrival ``i`` of a phase is due at
the phase's start + ``i / rate``; a late one does not push the later ones back, it only
shows in its ``started``), writes RESULT.json and prints ``DONE``.

Each arrival in RESULT.json: ``phase``, ``scheduled``, ``started`` (the request went out),
``answered`` (the response was read: the item's transaction has committed by then),
``status`` and ``work_item_id`` (null on an error, whose text is in ``error``). Times are
time.time(), shared with the other processes on this machine. ``go`` is when the first phase
began; ``cpu_seconds`` is this process's own CPU time over the phases.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def post_one(
    client: httpx.AsyncClient, spec: dict[str, Any], index: int, phase: str, scheduled: float
) -> dict[str, Any]:
    body = {
        "channel": spec["channel"],
        "from": {"kind": "platform", "platform": "floorbench", "value": f"customer-{index}"},
        "name": f"Floor Customer {index}",
        "body": f"Hello, this is customer {index}; I need help with my order.",
        "message_id": f"floor-{index}",
    }
    arrival: dict[str, Any] = {"index": index, "phase": phase, "scheduled": scheduled}
    arrival["started"] = None

    async def sent(event: str, info: dict[str, Any]) -> None:
        # The request leaves once a pooled connection is free, not when it was due.
        if event == "http11.send_request_headers.started":
            arrival["started"] = time.time()

    try:
        response = await client.post("/api/interactions/", json=body, extensions={"trace": sent})
        arrival["answered"] = time.time()
        arrival["status"] = response.status_code
        if response.status_code == 201:
            arrival["work_item_id"] = response.json()["work_item_id"]
        else:
            arrival["error"] = response.text[:300]
    except httpx.HTTPError as exc:
        arrival.update(answered=time.time(), status=None, error=f"{type(exc).__name__}: {exc}")
    arrival.setdefault("work_item_id", None)
    arrival["started"] = arrival["started"] or arrival["answered"]
    return arrival


async def run_phases(clients: list[httpx.AsyncClient], spec: dict[str, Any]) -> dict[str, Any]:
    """Every phase in turn, open loop; the clients take the arrivals in turn."""
    pending: list[asyncio.Task] = []
    go = start = time.time()
    cpu_before = cpu_seconds()
    index = 0
    for phase, rate, seconds in spec["phases"]:
        for number in range(round(rate * seconds)):
            due = start + number / rate
            await asyncio.sleep(max(0.0, due - time.time()))
            client = clients[index % len(clients)]
            pending.append(asyncio.create_task(post_one(client, spec, index, phase, due)))
            index += 1
        start += seconds
    arrivals = await asyncio.gather(*pending)
    return {"go": go, "arrivals": arrivals, "cpu_seconds": cpu_seconds() - cpu_before}


async def main_async(spec: dict[str, Any], result_path: Path) -> None:
    # Requests beyond the pool's size wait for a connection: they start late, and say so.
    limits = httpx.Limits(max_connections=spec["concurrency"])
    clients = [
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Token {spec['token']}"},
            timeout=spec["request_timeout"],
            limits=limits,
            trust_env=False,
        )
        for port in spec["ports"]
    ]
    try:
        for client in clients:
            (await client.get("/healthz/")).raise_for_status()
        print("READY", flush=True)
        if not await asyncio.to_thread(sys.stdin.readline):
            return
        result = await run_phases(clients, spec)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    result_path.write_text(json.dumps(result))
    print("DONE", flush=True)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(main_async(spec, Path(sys.argv[2])))


if __name__ == "__main__":
    main()
