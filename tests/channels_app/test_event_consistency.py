"""A console that applies every pushed event ends where a fresh snapshot starts.

This is what lets the console trust its events between snapshots: if a service forgot an event
(or sent a stale payload), the replayed state and the fresh snapshot would differ here.
"""

from __future__ import annotations

import asyncio
import copy

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from routing.models import Agent, Offer
from routing.selectors.payloads import console_snapshot
from tests.channels_app.test_consumers import connect, receive_until, send, start_visitor
from tests.factories import decline_reason, disposition, make_agent, status

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("reference_data")]


def apply_event(state: dict, frame: dict) -> None:
    """The console's reducer, written from docs/protocol.md."""
    kind, data = frame["type"], frame["data"]
    if kind == "agent.updated":
        state["agent"] = data
    elif kind == "offer.created":
        state["offers"].append(data)
    elif kind == "offer.closed":
        state["offers"] = [o for o in state["offers"] if o["offer_id"] != data["offer_id"]]
    elif kind == "work.assigned":
        state["work_items"].append(data)
    elif kind == "work.closed":
        state["work_items"] = [
            w for w in state["work_items"] if w["work_item_id"] != data["work_item_id"]
        ]
    elif kind == "message.created":
        for item in state["work_items"]:
            known = {m["id"] for m in item["messages"]}
            if item["work_item_id"] == data["work_item_id"] and data["id"] not in known:
                item["messages"].append(data)


def comparable(state: dict) -> dict:
    state = copy.deepcopy(state)
    for offer in state["offers"]:
        offer.pop("remaining_seconds")  # a countdown, not state
    return state


async def drain(console, state: dict, quiet_seconds: float = 0.3) -> None:
    while True:
        try:
            frame = await asyncio.wait_for(console.receive_json_from(), quiet_seconds)
        except TimeoutError:
            return
        apply_event(state, frame)


async def test_console_state_from_events_equals_a_fresh_snapshot() -> None:
    agent = await database_sync_to_async(make_agent)(first_name="Ada", capacity=4)
    available_id = await database_sync_to_async(lambda: status("Available").pk)()
    console, _, _ = await connect("/ws/agent/", agent.user)
    state = (await receive_until(console, "console.snapshot"))["data"]

    async def check() -> None:
        await drain(console, state)
        fresh = await database_sync_to_async(console_snapshot)(
            await database_sync_to_async(Agent.objects.get)(pk=agent.pk), timezone.now()
        )
        assert comparable(state) == comparable(fresh)

    await send(console, "presence.set", status_id=available_id)
    await check()

    visitors = []
    for name in ["First Customer", "Second Customer", "Third Customer"]:
        visitor, _ = await start_visitor(name=name, email=f"{name.split()[0].lower()}@example.com")
        await send(visitor, "chat.message", body=f"Hello from {name}")
        visitors.append(visitor)
    await check()
    assert len(state["offers"]) == 2, "capacity 4 holds two 2-unit chats"

    first, second = state["offers"][0]["offer_id"], state["offers"][1]["offer_id"]
    await send(console, "offer.accept", offer_id=first)
    reason_id = await database_sync_to_async(lambda: decline_reason().pk)()
    await send(console, "offer.decline", offer_id=second, reason_id=reason_id, note="Too busy")
    await check()
    assert len(state["work_items"]) == 1

    work_item_id = state["work_items"][0]["work_item_id"]
    await send(console, "message.send", work_item_id=work_item_id, body="How can I help?")
    await send(visitors[0], "chat.message", body="My parcel is late")
    await check()

    resolved = await database_sync_to_async(disposition)()
    await send(console, "work.close", work_item_id=work_item_id, disposition_id=resolved)
    await check()
    assert state["work_items"] == []
    pending = await database_sync_to_async(Offer.objects.filter(outcome="pending").count)()
    assert len(state["offers"]) == pending

    for visitor in visitors:
        await visitor.disconnect()
    await check()
    await console.disconnect()
