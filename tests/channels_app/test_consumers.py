from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from contactcenter.config.asgi import application
from contactcenter.crm.models import Customer, Message
from routing.models import Offer, WorkItem
from routing.selectors import payloads
from routing.services.presence import CONSOLE_SEEN_KEY, set_presence
from tests.factories import (
    decline_reason,
    disposition,
    make_agent,
    make_user,
    status,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("reference_data")]
ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 3


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect(path: str, user=None) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [ORIGIN]
    if user is not None:
        headers.append(await database_sync_to_async(session_cookie)(user))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=TIMEOUT)
    return communicator, connected, code


async def receive_until(
    communicator: WebsocketCommunicator, frame_type: str, *, timeout: float = TIMEOUT
) -> dict:
    """The next frame of a type, skipping others (pushes interleave)."""
    for _ in range(20):
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


async def send(communicator: WebsocketCommunicator, frame_type: str, **data) -> None:
    await communicator.send_json_to({"type": frame_type, "data": data})


async def start_visitor(name: str = "Maria Garcia", email: str = "maria@example.com"):
    visitor, connected, _ = await connect("/ws/chat/")
    assert connected
    await send(visitor, "chat.start", name=name, email=email)
    started = await receive_until(visitor, "chat.started")
    return visitor, started


async def two_visitors_in_line():
    """Two visitors wait in the chat queue; returns both and what the second was told."""
    first, _ = await start_visitor(name="First Customer", email="first@example.com")
    await send(first, "chat.message", body="Hello")
    assert (await receive_until(first, "chat.status"))["data"]["position"] == 1
    second, _ = await start_visitor(name="Second Customer", email="second@example.com")
    await send(second, "chat.message", body="Hello too")
    return first, second, (await receive_until(second, "chat.status"))["data"]


async def test_visitor_message_is_stored_echoed_and_the_visitor_is_told_they_wait() -> None:
    visitor, started = await start_visitor()
    assert started["v"] == 1
    assert started["data"]["customer_name"] == "Maria Garcia"
    await send(visitor, "chat.message", body="Where is my order?")
    echoed = await receive_until(visitor, "message.created")
    assert echoed["data"]["body"] == "Where is my order?"
    assert echoed["data"]["sender"] == "customer"
    waiting = await receive_until(visitor, "chat.status")
    assert waiting["data"] == {
        "state": "waiting",
        "position": 1,
        "position_beyond": None,
        "agents_available": 0,
        "agent_name": None,
        "note": None,
    }
    await visitor.disconnect()


async def test_waiting_visitors_see_their_place_in_line_move_and_whether_anyone_is_there() -> None:
    agent = await database_sync_to_async(make_agent)(capacity=2)
    first, second, told = await two_visitors_in_line()
    assert (told["position"], told["agents_available"]) == (2, 0)

    available_id = await database_sync_to_async(lambda: status("Available").pk)()
    await database_sync_to_async(set_presence)(agent=agent, status_id=available_id)
    moved = (await receive_until(second, "chat.status"))["data"]
    while moved["position"] != 1:
        moved = (await receive_until(second, "chat.status"))["data"]
    assert moved == {
        "state": "waiting",
        "position": 1,
        "position_beyond": None,
        "agents_available": 1,
        "agent_name": None,
        "note": None,
    }
    await first.disconnect()
    await second.disconnect()


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        ("not json", "invalid_json", None),
        ("[1, 2]", "invalid_frame", None),
        (json.dumps({"data": {}}), "invalid_frame", "type"),
        (json.dumps({"type": "chat.explode", "data": {}}), "unknown_type", "type"),
        (json.dumps({"type": "chat.start", "data": {"name": "Ann"}}), "invalid_frame", "email"),
        (json.dumps({"type": "chat.start", "data": "x"}), "invalid_frame", "data"),
        (
            json.dumps({"type": "chat.start", "data": {"name": "Ann", "email": "no-at-sign"}}),
            "invalid_frame",
            "email",
        ),
        (
            json.dumps({"type": "chat.start", "data": {"name": "A" * 20_000, "email": "a@b.co"}}),
            "frame_too_large",
            None,
        ),
        (json.dumps({"type": "chat.message", "data": {"body": "hi"}}), "not_started", None),
        (
            json.dumps({"type": "chat.start", "data": {"name": "A\u0000n", "email": "a@b.co"}}),
            "invalid_frame",
            "name",
        ),
        (
            '{"type": "chat.start", "data": {"name": "Ann", "email": "\\ud800@b.co"}}',
            "invalid_frame",
            "email",
        ),
    ],
)
async def test_bad_visitor_frames_get_an_error_frame_and_store_nothing(raw, code, field) -> None:
    visitor, connected, _ = await connect("/ws/chat/")
    assert connected
    await visitor.send_to(text_data=raw)
    error = await visitor.receive_json_from(timeout=TIMEOUT)
    assert error["type"] == "error"
    assert error["data"]["code"] == code
    assert error["data"]["field"] == field
    assert await database_sync_to_async(Customer.objects.count)() == 0
    await visitor.disconnect()


async def test_oversized_message_is_refused_and_the_chat_goes_on() -> None:
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="x" * 4001)
    error = await receive_until(visitor, "error")
    assert error["data"]["field"] == "body"
    await send(visitor, "chat.message", body="Short one")
    assert (await receive_until(visitor, "message.created"))["data"]["body"] == "Short one"
    assert await database_sync_to_async(Message.objects.count)() == 1
    await visitor.disconnect()


@pytest.mark.parametrize("path", ["/ws/agent/", "/ws/supervisor/"])
async def test_unauthenticated_sockets_are_refused(path) -> None:
    _communicator, connected, code = await connect(path)
    assert not connected
    assert code == 4401


async def test_a_user_without_an_agent_profile_cannot_open_the_agent_socket() -> None:
    outsider = await database_sync_to_async(make_user)()
    _, connected, code = await connect("/ws/agent/", outsider)
    assert not connected and code == 4403


async def test_an_agent_cannot_open_the_supervisor_socket() -> None:
    agent = await database_sync_to_async(make_agent)()
    _, connected, code = await connect("/ws/supervisor/", agent.user)
    assert not connected and code == 4403


async def test_socket_from_a_foreign_origin_is_refused() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected


async def test_one_chat_travels_from_visitor_to_agent_and_back() -> None:
    agent = await database_sync_to_async(make_agent)(first_name="Ada")
    available_id = await database_sync_to_async(lambda: status("Available").pk)()
    console, connected, _ = await connect("/ws/agent/", agent.user)
    assert connected
    snapshot = await receive_until(console, "console.snapshot")
    assert snapshot["data"]["agent"]["status_name"] == "Offline"
    assert {s["name"] for s in snapshot["data"]["statuses"]} >= {"Available", "Break"}

    await send(console, "presence.set", status_id=available_id)
    updated = await receive_until(console, "agent.updated")
    assert updated["data"]["status_name"] == "Available"

    visitor, _ = await start_visitor(name="Maria Garcia")
    await send(visitor, "chat.message", body="Where is my order?")
    offer = (await receive_until(console, "offer.created"))["data"]
    assert offer["customer_name"] == "Maria Garcia"
    assert offer["preview"] == "Where is my order?"
    assert 0 < offer["remaining_seconds"] <= offer["timeout_seconds"] == 30

    await send(console, "offer.accept", offer_id=offer["offer_id"])
    closed = await receive_until(console, "offer.closed")
    assert closed["data"]["outcome"] == "accepted"
    work = (await receive_until(console, "work.assigned"))["data"]
    assert [m["body"] for m in work["messages"]] == ["Where is my order?", "Ada joined the chat."]
    connected_status = await receive_until(visitor, "chat.status")
    while connected_status["data"]["state"] != "connected":
        connected_status = await receive_until(visitor, "chat.status")
    assert connected_status["data"]["agent_name"] == "Ada"

    await send(console, "message.send", work_item_id=work["work_item_id"], body="Hi Maria!")
    reply = await receive_until(visitor, "message.created")
    while reply["data"]["sender"] != "agent":
        reply = await receive_until(visitor, "message.created")
    assert reply["data"]["body"] == "Hi Maria!"
    assert reply["data"]["author_name"] == "Ada"

    await send(visitor, "chat.message", body="Order 12345")
    relayed = await receive_until(console, "message.created")
    while relayed["data"]["body"] != "Order 12345":
        relayed = await receive_until(console, "message.created")
    assert relayed["data"]["work_item_id"] == work["work_item_id"]

    resolved = await database_sync_to_async(disposition)()
    await send(console, "work.close", work_item_id=work["work_item_id"], disposition_id=resolved)
    closed = (await receive_until(console, "work.closed"))["data"]
    assert (closed["work_item_id"], closed["wrap_up_until"]) == (work["work_item_id"], None)
    final = await receive_until(visitor, "chat.status")
    while final["data"]["state"] != "closed":
        final = await receive_until(visitor, "chat.status")
    await visitor.disconnect()
    await console.disconnect()


async def test_an_agent_cannot_accept_another_agents_offer_over_the_socket() -> None:
    owner = await database_sync_to_async(make_agent)(available=True)
    intruder = await database_sync_to_async(make_agent)()
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="Hello")
    await receive_until(visitor, "chat.status")
    offer = await database_sync_to_async(Offer.objects.get)(agent=owner)

    console, _, _ = await connect("/ws/agent/", intruder.user)
    await receive_until(console, "console.snapshot")
    await send(console, "offer.accept", offer_id=offer.pk)
    error = await receive_until(console, "error")
    assert error["data"]["code"] == "not_found"
    assert error["data"]["field"] == "offer_id"
    await database_sync_to_async(offer.refresh_from_db)()
    assert offer.outcome == Offer.Outcome.PENDING
    await console.disconnect()
    await visitor.disconnect()


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ({"type": "offer.accept", "data": {}}, "invalid_frame", "offer_id"),
        ({"type": "offer.accept", "data": {"offer_id": "7"}}, "invalid_frame", "offer_id"),
        ({"type": "offer.accept", "data": {"offer_id": True}}, "invalid_frame", "offer_id"),
        ({"type": "offer.accept", "data": {"offer_id": 10**30}}, "invalid_frame", "offer_id"),
        ({"type": "offer.accept", "data": {"offer_id": -3}}, "invalid_frame", "offer_id"),
        ({"type": "presence.set", "data": {"status_id": 999999}}, "not_found", "status_id"),
        ({"type": "message.send", "data": {"work_item_id": 1}}, "invalid_frame", "body"),
        ({"type": "work.close", "data": {"work_item_id": 424242}}, "not_found", "work_item_id"),
        (
            {"type": "offer.decline", "data": {"offer_id": 1, "note": 5}},
            "invalid_frame",
            "note",
        ),
        (
            {"type": "offer.decline", "data": {"offer_id": 1, "reason_id": "busy"}},
            "invalid_frame",
            "reason_id",
        ),
    ],
)
async def test_bad_agent_frames_get_an_error_frame(frame, code, field) -> None:
    agent = await database_sync_to_async(make_agent)()
    console, _, _ = await connect("/ws/agent/", agent.user)
    await receive_until(console, "console.snapshot")
    await console.send_json_to(frame)
    error = await receive_until(console, "error")
    assert (error["data"]["code"], error["data"]["field"]) == (code, field)
    assert error["data"]["ref"] == frame["type"]
    await console.disconnect()


async def test_visitor_leaving_while_waiting_abandons_the_chat() -> None:
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="Hello")
    await receive_until(visitor, "chat.status")
    await visitor.disconnect()
    item = await database_sync_to_async(WorkItem.objects.get)()
    assert item.status == WorkItem.Status.ABANDONED


async def test_a_visitor_hears_the_name_they_typed_not_the_one_stored_for_the_email() -> None:
    first, _ = await start_visitor(name="Maria Garcia", email="maria@example.com")
    await first.disconnect()
    impostor, started = await start_visitor(name="Someone Else", email="maria@example.com")
    assert started["data"]["customer_name"] == "Someone Else"
    await impostor.disconnect()


async def test_visitors_beyond_the_announced_positions_are_told_how_far_back_they_are(
    monkeypatch,
) -> None:
    monkeypatch.setattr(payloads, "ANNOUNCED_POSITIONS", 1)
    first, second, told = await two_visitors_in_line()
    assert (told["position"], told["position_beyond"]) == (None, 1)

    await first.disconnect()
    moved = (await receive_until(second, "chat.status"))["data"]
    assert (moved["position"], moved["position_beyond"]) == (1, None)
    await second.disconnect()


async def eventually(read, holds, seconds: float = 3.0):
    """What ``read`` returns once ``holds`` accepts it, within ``seconds`` (a loaded machine
    runs the reports late, not never)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not holds(value := await read()):
        assert asyncio.get_running_loop().time() < deadline, value
        await asyncio.sleep(0.02)
    return value


async def test_an_open_console_reports_in_until_it_closes(settings) -> None:
    settings.CONSOLE_HEARTBEAT_SECONDS = 0.05
    agent = await database_sync_to_async(make_agent)()
    key = CONSOLE_SEEN_KEY.format(agent.pk)
    await cache.adelete(key)
    console_seen_at = database_sync_to_async(
        lambda: type(agent).objects.values_list("console_seen_at", flat=True).get(pk=agent.pk)
    )
    console, _, _ = await connect("/ws/agent/", agent.user)
    await receive_until(console, "console.snapshot")
    opened = await console_seen_at()
    assert opened is not None, "the agent now works from a console"
    first = await eventually(lambda: cache.aget(key), lambda seen: seen is not None)
    await eventually(lambda: cache.aget(key), lambda seen: seen > first)
    assert await console_seen_at() == opened, "reports in without writing to the database"
    await console.disconnect()
    assert await console_seen_at() > opened, "the grace period starts at the close"
    await asyncio.sleep(0.1)  # a report already on its way may still land
    after_close = await cache.aget(key)
    await asyncio.sleep(0.3)
    assert await cache.aget(key) == after_close, "a closed console no longer reports in"


async def test_a_process_reports_all_its_open_consoles_in_one_write(settings) -> None:
    settings.CONSOLE_HEARTBEAT_SECONDS = 0.05
    agents = [await database_sync_to_async(make_agent)() for _ in range(3)]
    keys = [CONSOLE_SEEN_KEY.format(agent.pk) for agent in agents]
    await cache.adelete_many(keys)
    consoles = [(await connect("/ws/agent/", agent.user))[0] for agent in agents]
    # A second tab of the first agent: closing it keeps the first one reporting.
    second_tab, _, _ = await connect("/ws/agent/", agents[0].user)
    for console in [*consoles, second_tab]:
        await receive_until(console, "console.snapshot")
    await second_tab.disconnect()
    # One report for the whole process, at one moment (read while no report is half written).
    await eventually(
        lambda: cache.aget_many(keys),
        lambda seen: len(seen) == 3 and len(set(seen.values())) == 1,
    )
    for console in consoles:
        await console.disconnect()


async def test_visitor_pushed_back_behind_the_announced_places_is_told_so(monkeypatch) -> None:
    monkeypatch.setattr(payloads, "ANNOUNCED_POSITIONS", 1)
    agent = await database_sync_to_async(make_agent)(capacity=2, available=True)
    console, _, _ = await connect("/ws/agent/", agent.user)
    await receive_until(console, "console.snapshot")
    first, _ = await start_visitor(name="First Customer", email="first@example.com")
    await send(first, "chat.message", body="Hello")
    offer = (await receive_until(console, "offer.created"))["data"]
    second, _ = await start_visitor(name="Second Customer", email="second@example.com")
    await send(second, "chat.message", body="Hello too")
    assert (await receive_until(second, "chat.status"))["data"]["position"] == 1

    reason_id = await database_sync_to_async(lambda: decline_reason().pk)()
    await send(console, "offer.decline", offer_id=offer["offer_id"], reason_id=reason_id)
    told = (await receive_until(second, "chat.status"))["data"]
    assert (told["position"], told["position_beyond"]) == (None, 1)
    for communicator in (console, first, second):
        await communicator.disconnect()
