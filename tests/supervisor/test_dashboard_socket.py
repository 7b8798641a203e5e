"""The supervisor's socket: a snapshot of one page of agents, then deltas for what changed,
built once per process and sent as the same text to every dashboard with the same view."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from contactcenter.kernel.realtime import SUPERVISORS_GROUP
from routing.services.presence import set_presence
from supervisor.deltas import WAITING_EVERY_SECONDS
from tests.channels_app.test_consumers import connect, receive_until, send, start_visitor
from tests.factories import make_agent, make_supervisor, status

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("reference_data")]


async def open_dashboard(supervisor=None):
    supervisor = supervisor or await database_sync_to_async(make_supervisor)()
    dashboard, connected, _ = await connect("/ws/supervisor/", supervisor)
    assert connected
    return dashboard, (await receive_until(dashboard, "dashboard.snapshot"))["data"]


@database_sync_to_async
def make_agents(*names: str, available: bool = False) -> list[int]:
    return [make_agent(name.lower(), first_name=name, available=available).pk for name in names]


@database_sync_to_async
def set_status(agent_id: int, name: str | None) -> None:
    from routing.models import Agent

    set_presence(agent=Agent.objects.get(pk=agent_id), status_id=status(name).pk if name else None)


async def test_the_snapshot_on_connect_holds_the_first_page_and_the_view() -> None:
    await make_agents("Ada", "Bob", "Cy")
    dashboard, snapshot = await open_dashboard()
    assert [agent["name"] for agent in snapshot["agents"]] == ["Ada", "Bob", "Cy"]
    assert snapshot["agents_total"] == 3
    assert snapshot["view"] == {
        "offset": 0,
        "limit": 50,
        "search": "",
        "team_id": None,
        "status_id": None,
        "offline": False,
        "skill_id": None,
    }
    await dashboard.disconnect()


async def test_a_change_sends_a_delta_with_only_the_changed_agent() -> None:
    ada, _, _ = await make_agents("Ada", "Bob", "Cy")
    dashboard, _ = await open_dashboard()
    await set_status(ada, "Available")
    delta = (await receive_until(dashboard, "dashboard.delta"))["data"]
    assert [(agent["id"], agent["status_name"]) for agent in delta["agents"]] == [
        (ada, "Available")
    ]
    assert delta["agents_removed"] == []
    assert delta["agents_total"] == 3
    await dashboard.disconnect()


async def test_an_offer_shows_in_the_delta_as_the_agents_row_listing_the_item() -> None:
    (ada,) = await make_agents("Ada", available=True)
    dashboard, _ = await open_dashboard()
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="Hello")
    for _ in range(10):
        delta = (await receive_until(dashboard, "dashboard.delta"))["data"]
        rows = [agent for agent in delta["agents"] if agent["id"] == ada]
        if rows and rows[0]["items"]:
            break
    else:
        raise AssertionError("no delta showed Ada's offer")
    assert rows[0]["items"][0]["state"] == "offered"
    assert rows[0]["items"][0]["work_item_id"] > 0
    await dashboard.disconnect()
    await visitor.disconnect()


async def test_a_view_pages_filters_and_searches_the_agents() -> None:
    await make_agents("Ada", "Bob", "Cy", "Dee")
    await make_agents("Eve", available=True)
    dashboard, _ = await open_dashboard()
    await send(dashboard, "dashboard.view", offset=2, limit=2)
    page = (await receive_until(dashboard, "dashboard.snapshot"))["data"]
    assert [agent["name"] for agent in page["agents"]] == ["Cy", "Dee"]
    assert (page["agents_total"], page["view"]["offset"], page["view"]["limit"]) == (5, 2, 2)

    await send(
        dashboard,
        "dashboard.view",
        status_id=await database_sync_to_async(lambda: status("Available").pk)(),
    )
    available = (await receive_until(dashboard, "dashboard.snapshot"))["data"]
    assert [agent["name"] for agent in available["agents"]] == ["Eve"]

    await send(dashboard, "dashboard.view", search="B")
    found = (await receive_until(dashboard, "dashboard.snapshot"))["data"]
    assert [agent["name"] for agent in found["agents"]] == ["Bob"]
    await send(dashboard, "dashboard.view", offline=True)
    offline = (await receive_until(dashboard, "dashboard.snapshot"))["data"]
    assert offline["agents_total"] == 4
    await dashboard.disconnect()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"search": "x" * 101}, "search"),
        ({"team_id": "3"}, "team_id"),
        ({"offline": "yes"}, "offline"),
    ],
)
async def test_a_bad_view_gets_an_error_frame_naming_the_field(data, field) -> None:
    dashboard, _ = await open_dashboard()
    await dashboard.send_json_to({"type": "dashboard.view", "data": data})
    error = (await receive_until(dashboard, "error"))["data"]
    assert (error["code"], error["field"], error["ref"]) == (
        "invalid_frame",
        field,
        "dashboard.view",
    )
    await dashboard.disconnect()


async def test_an_agent_who_leaves_the_filter_is_removed_from_the_view() -> None:
    _ada, bob = await make_agents("Ada", "Bob", available=True)
    dashboard, _ = await open_dashboard()
    available = await database_sync_to_async(lambda: status("Available").pk)()
    await send(dashboard, "dashboard.view", status_id=available)
    await receive_until(dashboard, "dashboard.snapshot")
    await set_status(bob, None)
    delta = (await receive_until(dashboard, "dashboard.delta"))["data"]
    assert (delta["agents"], delta["agents_removed"], delta["agents_total"]) == ([], [bob], 1)
    await dashboard.disconnect()


async def test_many_dashboards_with_one_view_get_one_encoded_delta(checked_frames) -> None:
    ada, _ = await make_agents("Ada", "Bob")
    supervisor = await database_sync_to_async(make_supervisor)()
    dashboards = [(await open_dashboard(supervisor))[0] for _ in range(3)]
    built_before = sum(frame["type"] == "dashboard.delta" for frame in checked_frames.frames)
    await set_status(ada, "Available")
    texts = []
    for dashboard in dashboards:
        text = await dashboard.receive_from(timeout=3)
        assert json.loads(text)["type"] == "dashboard.delta"
        texts.append(text)
    assert texts[0] == texts[1] == texts[2]
    built = sum(frame["type"] == "dashboard.delta" for frame in checked_frames.frames)
    assert built - built_before == 1
    for dashboard in dashboards:
        await dashboard.disconnect()


async def test_a_burst_of_a_thousand_changes_sends_a_handful_of_deltas() -> None:
    agent_ids = await make_agents("Ada", "Bob")
    dashboard, _ = await open_dashboard()
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(1000):
        nudge = {"type": "dashboard.changed", "agents": [agent_ids[n % 2]], "queues": []}
        await layer.group_send(SUPERVISORS_GROUP, {**nudge, "work_items": [n + 1]})
        if n % 50 == 0:
            # Let the consumer drain its channel (the in-memory layer holds 100 messages).
            await asyncio.sleep(0.01)
    frames = 0
    while not await dashboard.receive_nothing(timeout=1):
        frame = await dashboard.receive_json_from()
        frames += frame["type"] == "dashboard.delta"
    elapsed = loop.time() - started
    # At most one delta per 0.3 s while the nudges came, and one for the last of them.
    assert 1 <= frames <= elapsed / 0.3 + 1, (frames, elapsed)
    assert frames < 20
    await dashboard.disconnect()


async def test_a_quiet_floor_still_gets_waits_and_alerts_moving(settings) -> None:
    settings.SUPERVISOR_QUIET_REFRESH_SECONDS = 1
    dashboard, _first = await open_dashboard()
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="Hello")
    seen_wait = 0
    for _ in range(10):
        delta = (await receive_until(dashboard, "dashboard.delta"))["data"]
        chat = [row for row in delta["queues"] if row["name"] == "Web chat"]
        if chat and chat[0]["waiting"] == 1:
            seen_wait = max(seen_wait, chat[0]["longest_wait_seconds"])
        if seen_wait >= 1:
            break
    # No event after the chat came in, and yet its wait moved on.
    assert seen_wait >= 1
    assert delta["agents"] == []
    await dashboard.disconnect()
    await visitor.disconnect()


async def test_a_chat_that_comes_in_enters_the_waiting_list_and_its_queue_row() -> None:
    dashboard, first = await open_dashboard()
    assert first["waiting"] == []
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="Hello")
    waiting, queue = [], None
    for _ in range(10):
        # The waiting list is read at most every WAITING_EVERY_SECONDS.
        frame = await receive_until(dashboard, "dashboard.delta", timeout=WAITING_EVERY_SECONDS + 2)
        delta = frame["data"]
        waiting += delta["waiting"]
        queue = next((row for row in delta["queues"] if row["name"] == "Web chat"), queue)
        if waiting and queue:
            break
    assert [row["customer_name"] for row in waiting] == ["Maria Garcia"]
    assert queue["waiting"] == 1
    await dashboard.disconnect()
    await visitor.disconnect()


def apply_delta(picture: dict, data: dict) -> None:
    """The dashboard's merge, written from docs/protocol.md."""
    for key, id_key, removed in (
        ("queues", "id", ()),
        ("agents", "id", data["agents_removed"]),
        ("waiting", "work_item_id", data["waiting_removed"]),
    ):
        rows = {row[id_key]: row for row in picture[key] if row[id_key] not in removed}
        rows.update((row[id_key], row) for row in data[key])
        picture[key] = list(rows.values())
    picture["agents_total"] = data["agents_total"]
    for whole in ("alerts", "skills_backlog", "bot_resolved_today"):
        if whole in data:
            picture[whole] = data[whole]


def comparable(picture: dict) -> dict:
    """What a snapshot and a replayed picture must agree on: waits move with the clock."""
    moving = {"longest_wait_seconds", "average_wait_seconds", "service_level_today"}
    return {
        "queues": sorted(
            ({k: v for k, v in row.items() if k not in moving} for row in picture["queues"]),
            key=lambda row: row["id"],
        ),
        "agents": sorted(picture["agents"], key=lambda row: row["id"]),
        "agents_total": picture["agents_total"],
        "waiting": sorted(picture["waiting"], key=lambda row: row["work_item_id"]),
        "skills_backlog": picture["skills_backlog"],
        "bot_resolved_today": picture["bot_resolved_today"],
    }


async def test_a_snapshot_plus_its_deltas_equals_a_fresh_snapshot() -> None:
    from routing.models import Agent, Offer
    from routing.services.offers import accept_offer, decline_offer
    from routing.services.work import close_work
    from supervisor.selectors import dashboard_snapshot
    from tests.factories import decline_reason, disposition

    _, bob = await make_agents("Ada", "Bob", available=True)
    dashboard, picture = await open_dashboard()
    visitors = []
    for name in ("Rosa", "Sam", "Tia"):
        visitor, _ = await start_visitor(name=name, email=f"{name.lower()}@example.com")
        await send(visitor, "chat.message", body="Hello")
        visitors.append(visitor)

    @database_sync_to_async
    def work_the_floor() -> None:
        offers = list(Offer.objects.filter(outcome="pending").order_by("pk"))
        agents = {agent.pk: agent for agent in Agent.objects.all()}
        first, *rest = offers
        item = accept_offer(agent=agents[first.agent_id], offer_id=first.pk)
        for offer in rest[:1]:
            decline_offer(
                agent=agents[offer.agent_id], offer_id=offer.pk, reason_id=decline_reason().pk
            )
        close_work(agent=agents[first.agent_id], work_item_id=item.pk, disposition_id=disposition())

    await work_the_floor()
    await set_status(bob, "Break")
    # Until the deltas stop: the waiting list is read at most every 5 s.
    while not await dashboard.receive_nothing(timeout=5.5):
        frame = await dashboard.receive_json_from()
        if frame["type"] == "dashboard.delta":
            apply_delta(picture, frame["data"])
    fresh = await database_sync_to_async(dashboard_snapshot)(timezone.now())
    replayed, expected = comparable(picture), comparable(fresh)
    for key in expected:
        assert replayed[key] == expected[key], key
    await dashboard.disconnect()
    for visitor in visitors:
        await visitor.disconnect()
