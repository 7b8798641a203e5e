"""The web chat widget's server side: per-site keys and framing, resuming after a reload,
typing notices both ways, ending the chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone

from channels_app.models import ChatSite
from contactcenter.crm.models import Interaction
from contactcenter.crm.web_chat import start_web_chat
from routing.models import WorkItem
from routing.services.departures import end_chats_left_behind
from tests.channels_app.test_consumers import connect, receive_until, send, start_visitor
from tests.factories import make_agent, status


def make_site(**fields) -> ChatSite:
    return ChatSite.objects.create(
        name=fields.pop("name", "Shop"),
        allowed_origins=fields.pop(
            "allowed_origins", "https://shop.example\nhttp://localhost:3000"
        ),
        **fields,
    )


@pytest.mark.django_db
def test_the_framed_chat_page_may_be_shown_only_on_the_sites_origins(client) -> None:
    site = make_site()
    response = client.get(f"/chat/?site={site.key}")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == (
        "frame-ancestors https://shop.example http://localhost:3000"
    )
    assert "X-Frame-Options" not in response
    assert f'data-site-key="{site.key}"' in response.content.decode()
    assert client.get("/chat/")["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert client.get("/chat/?site=unknown").status_code == 404
    site.is_active = False
    site.save()
    assert client.get(f"/chat/?site={site.key}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("origins", ["", "shop.example", "https://shop.example/path", "ftp://x.y"])
def test_a_site_needs_real_origins(origins: str) -> None:
    with pytest.raises(ValidationError):
        ChatSite(name="Bad", allowed_origins=origins).full_clean()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_a_chat_started_from_a_widget_records_its_site() -> None:
    site = await database_sync_to_async(make_site)()
    visitor, connected, _ = await connect("/ws/chat/")
    assert connected
    await send(visitor, "chat.start", name="Ana", email="ana@example.com", site="wrong-key")
    error = await receive_until(visitor, "error")
    assert (error["data"]["field"], error["data"]["code"]) == ("site", "not_found")
    await send(visitor, "chat.start", name="Ana", email="ana@example.com", site=site.key)
    started = await receive_until(visitor, "chat.started")
    interaction = await database_sync_to_async(Interaction.objects.get)(
        pk=started["data"]["interaction_id"]
    )
    assert interaction.business_address == "web:Shop"
    await visitor.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_a_reload_resumes_the_chat_with_its_history_and_status(settings) -> None:
    settings.CHAT_RESUME_SECONDS = 60
    visitor, started = await start_visitor(name="Ana Lima", email="ana@example.com")
    token = started["data"]["resume_token"]
    await send(visitor, "chat.message", body="My parcel is late")
    await receive_until(visitor, "chat.status")
    await visitor.disconnect()
    interaction_id = started["data"]["interaction_id"]
    away = await database_sync_to_async(Interaction.objects.get)(pk=interaction_id)
    assert away.status == "open" and away.customer_away_since is not None

    again, connected, _ = await connect("/ws/chat/")
    assert connected
    await send(again, "chat.resume", token=token)
    resumed = await receive_until(again, "chat.started")
    assert resumed["data"]["interaction_id"] == interaction_id
    assert resumed["data"]["customer_name"] == "Ana Lima"
    history = await receive_until(again, "chat.history")
    assert [m["body"] for m in history["data"]["messages"]] == ["My parcel is late"]
    now = await receive_until(again, "chat.status")
    assert (now["data"]["state"], now["data"]["position"]) == ("waiting", 1)
    back = await database_sync_to_async(Interaction.objects.get)(pk=interaction_id)
    assert back.customer_away_since is None
    # Messages keep flowing on the resumed socket.
    await send(again, "chat.message", body="Still there?")
    echoed = await receive_until(again, "message.created")
    assert echoed["data"]["body"] == "Still there?"
    await again.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_a_visitor_who_does_not_come_back_in_time_has_left(settings) -> None:
    settings.CHAT_RESUME_SECONDS = 60
    visitor, started = await start_visitor()
    token = started["data"]["resume_token"]
    await send(visitor, "chat.message", body="Hello")
    await receive_until(visitor, "chat.status")
    await visitor.disconnect()
    ended = await database_sync_to_async(end_chats_left_behind)(
        now=timezone.now() + timedelta(seconds=61)
    )
    assert ended == 1
    item = await database_sync_to_async(WorkItem.objects.get)()
    assert item.status == WorkItem.Status.ABANDONED
    late, _, _ = await connect("/ws/chat/")
    await send(late, "chat.resume", token=token)
    error = await receive_until(late, "error")
    assert error["data"]["message"] == "This chat has ended."
    await late.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("token", ["forged", "x" * 1001])
async def test_a_forged_or_oversized_resume_token_gets_an_error_frame(token: str) -> None:
    visitor, _, _ = await connect("/ws/chat/")
    await send(visitor, "chat.resume", token=token)
    error = await receive_until(visitor, "error")
    assert error["data"]["field"] == "token"
    await visitor.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_typing_notices_reach_the_other_side_and_ending_leaves_at_once(settings) -> None:
    settings.CHAT_RESUME_SECONDS = 60
    agent = await database_sync_to_async(make_agent)(first_name="Ada", capacity=4)
    available_id = await database_sync_to_async(lambda: status("Available").pk)()
    console, _, _ = await connect("/ws/agent/", agent.user)
    await receive_until(console, "console.snapshot")
    await send(console, "presence.set", status_id=available_id)
    visitor, _ = await start_visitor(name="Maria")
    await send(visitor, "chat.message", body="Hello")
    offer = (await receive_until(console, "offer.created"))["data"]
    await send(console, "offer.accept", offer_id=offer["offer_id"])
    work = (await receive_until(console, "work.assigned"))["data"]

    await send(visitor, "chat.typing", typing=True)
    typing = await receive_until(console, "chat.typing")
    assert typing["data"] == {
        "interaction_id": work["interaction_id"],
        "work_item_id": work["work_item_id"],
        "typing": True,
    }
    await send(console, "work.typing", work_item_id=work["work_item_id"], typing=True)
    shown = await receive_until(visitor, "chat.typing")
    assert shown["data"] == {"name": "Ada", "typing": True}
    await send(visitor, "chat.typing", typing="yes")
    bad = await receive_until(visitor, "error")
    assert bad["data"]["field"] == "typing"
    await send(console, "work.typing", work_item_id=999999, typing=True)
    assert (await receive_until(console, "error"))["data"]["code"] == "not_found"

    await send(visitor, "chat.end")
    closed = await receive_until(visitor, "chat.status")
    while closed["data"]["state"] != "closed":
        closed = await receive_until(visitor, "chat.status")
    assert closed["data"]["note"] == "ended"
    left = await receive_until(console, "message.created")
    while left["data"]["body"] != "The customer left the chat.":
        left = await receive_until(console, "message.created")
    await visitor.disconnect()
    # Ended on purpose: the closed socket does not start a grace period.
    interaction = await database_sync_to_async(Interaction.objects.get)(pk=work["interaction_id"])
    assert interaction.customer_away_since is None
    await console.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_a_site_can_vouch_for_its_signed_in_shopper() -> None:

    owner = await database_sync_to_async(start_web_chat)(
        name="Ana Lima", email="ana@example.com", verified=True
    )
    site = await database_sync_to_async(make_site)()
    signature = site.identity_hash("ana@example.com")
    visitor, _, _ = await connect("/ws/chat/")
    await send(
        visitor,
        "chat.start",
        name="Ana",
        email="Ana@Example.com",
        site=site.key,
        identity_hash="0" * 64,
    )
    refused = await receive_until(visitor, "error")
    assert (refused["data"]["code"], refused["data"]["field"]) == ("forbidden", "identity_hash")
    await send(visitor, "chat.start", name="Ana", email="ana@example.com", identity_hash=signature)
    no_site = await receive_until(visitor, "error")
    assert no_site["data"]["field"] == "site"
    await send(
        visitor,
        "chat.start",
        name="Ana",
        email="Ana@Example.com",
        site=site.key,
        identity_hash=signature.upper(),
    )
    started = await receive_until(visitor, "chat.started")
    interaction = await database_sync_to_async(Interaction.objects.select_related("case").get)(
        pk=started["data"]["interaction_id"]
    )
    assert interaction.case.customer_id == owner.case.customer_id
    assert interaction.claimed_email == ""
    await visitor.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_an_old_connection_closing_late_does_not_end_a_resumed_chat(settings) -> None:
    settings.CHAT_RESUME_SECONDS = 60
    first, started = await start_visitor()
    await send(first, "chat.message", body="Hello")
    await receive_until(first, "chat.status")
    # The page came back on a new socket before the server noticed the old one was gone.
    second, _, _ = await connect("/ws/chat/")
    await send(second, "chat.resume", token=started["data"]["resume_token"])
    await receive_until(second, "chat.started")
    await first.disconnect()
    interaction_id = started["data"]["interaction_id"]
    interaction = await database_sync_to_async(Interaction.objects.get)(pk=interaction_id)
    assert interaction.customer_away_since is None
    assert (
        await database_sync_to_async(end_chats_left_behind)(
            now=timezone.now() + timedelta(seconds=120)
        )
        == 0
    )
    await second.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_a_visitor_who_leaves_before_writing_ends_the_contact() -> None:
    visitor, started = await start_visitor()
    await visitor.disconnect()
    interaction = await database_sync_to_async(Interaction.objects.get)(
        pk=started["data"]["interaction_id"]
    )
    assert interaction.status == "closed"
