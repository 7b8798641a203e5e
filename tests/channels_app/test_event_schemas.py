"""Every frame has one typed definition (contactcenter/kernel/protocol.py), and every frame the
tests make the code build is checked against it (the ``checked_frames`` fixture, tests/conftest.py).

These tests check the checking: that it sees frames on every path the code sends them by, that
it refuses what does not match with a message that says where, and that the definitions agree
with the models they describe.
"""

from __future__ import annotations

import datetime as dt
import json
import typing

import pytest
from channels.db import database_sync_to_async
from pydantic import BaseModel, ValidationError

from channels_app.frames import FrameError, parse_frame
from contactcenter.crm import messages as crm_messages
from contactcenter.crm import web_chat as crm_web_chat
from contactcenter.crm.models import ChannelKind, Message
from contactcenter.kernel import protocol
from contactcenter.kernel.realtime import envelope, frame_built
from routing.models import Offer, WorkItem
from tests.channels_app.test_consumers import connect, receive_until, send, start_visitor
from tests.factories import make_agent, status

NOW = "2025-03-04T09:30:00+00:00"


def literal_values(model: type[BaseModel], name: str) -> set[str]:
    return set(typing.get_args(model.model_fields[name].annotation))


# --- the fixture sees every path, and nothing watches in production ------------------------


def test_only_the_tests_watch_the_frames_the_code_builds(checked_frames) -> None:
    assert frame_built.receivers == (checked_frames,)


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_frames_sent_directly_pushed_to_a_group_and_pushed_in_a_batch_are_all_checked(
    checked_frames,
) -> None:
    agent = await database_sync_to_async(make_agent)(first_name="Ada", capacity=2)
    console, _, _ = await connect("/ws/agent/", agent.user)
    snapshot = await receive_until(console, "console.snapshot")  # a consumer's own send
    available = await database_sync_to_async(lambda: status("Available").pk)()
    await send(console, "presence.set", status_id=available)
    await receive_until(console, "agent.updated")  # a push to the agent's group
    visitor, _ = await start_visitor()
    await send(visitor, "chat.message", body="Hello")
    offer = await receive_until(console, "offer.created")  # a round's batch
    await send(console, "offer.accept", offer_id=10**30)
    error = await receive_until(console, "error")

    checked = checked_frames.frames
    assert snapshot in checked and offer in checked and error in checked
    assert {"chat.started", "message.created", "chat.status", "agent.updated"} <= {
        frame["type"] for frame in checked
    }
    assert checked_frames.problems == []
    await visitor.disconnect()
    await console.disconnect()


# --- what the check refuses, and how it says so --------------------------------------------


def test_a_frame_that_does_not_match_its_schema_is_reported_with_its_type_path_and_value(
    checked_frames,
) -> None:
    envelope("offer.closed", {"offer_id": 7, "work_item_id": True, "outcome": "accepted"})
    problem = checked_frames.problems.pop()
    assert "'offer.closed'" in problem
    assert "data.work_item_id" in problem
    assert "(value: True)" in problem


def test_a_frame_of_a_type_the_protocol_does_not_define_is_reported(checked_frames) -> None:
    envelope("offer.exploded", {"offer_id": 7})
    assert "'offer.exploded': no such server → client event type" in checked_frames.problems.pop()


def test_a_nested_bad_field_is_reported_by_its_path(checked_frames) -> None:
    message = {
        "id": 1,
        "interaction_id": 2,
        "work_item_id": None,
        "sender": "customer",
        "author_name": "Maria",
        "body": "Hi",
        "created_at": NOW,
        "delivery": "",
        "delivery_error": "",
        "internal": False,
        "attachments": [
            {"id": 3, "filename": "a.png", "content_type": "image/png", "size": 10, "url": "/a"}
        ],
    }
    envelope("chat.history", {"messages": [message]})
    assert checked_frames.problems == []
    envelope("chat.history", {"messages": [{**message, "created_at": "2025-03-04T10:30:00+01:00"}]})
    problem = checked_frames.problems.pop()
    assert "data.messages.0.created_at: a UTC time (+00:00) is required" in problem


def test_a_frame_that_json_would_change_or_refuse_is_reported(checked_frames) -> None:
    """What a channel layer or a socket would turn into something else (a tuple) or refuse
    (a datetime) fails the test that built it; then every frame is sent through JSON and
    must come back the same."""
    envelope("dashboard.snapshot", _dashboard(waiting=[_waiting_row(skills=("German ≥ 1",))]))
    assert "data.waiting.0.skills: Input should be a valid list" in checked_frames.problems.pop()
    envelope("dashboard.snapshot", _dashboard(generated_at=dt.datetime.now(dt.UTC)))
    assert "data.generated_at: Input should be a valid string" in checked_frames.problems.pop()
    envelope("dashboard.snapshot", _dashboard(waiting=[_waiting_row()]))
    assert checked_frames.problems == []


def test_a_frame_with_a_bad_envelope_is_reported() -> None:
    data = {"name": "Ada", "typing": True}
    with pytest.raises(protocol.FrameSchemaError, match="bad envelope"):
        protocol.check_server_frame({"type": "chat.typing", "v": True, "data": data})
    with pytest.raises(protocol.FrameSchemaError, match="bad envelope"):
        protocol.check_server_frame({"type": "chat.typing", "v": 1, "data": data, "ref": None})


def _waiting_row(**changes) -> dict:
    return {
        "work_item_id": 1,
        "queue": "Support",
        "channel": "chat",
        "customer_name": "Maria",
        "priority": 0,
        "enqueued_at": NOW,
        "skills": ["German ≥ 1"],
        "why": "No agent is available.",
        **changes,
    }


def _dashboard(**changes) -> dict:
    return {
        "generated_at": NOW,
        "queues": [],
        "bot_resolved_today": 0,
        "agents": [],
        "agents_total": 0,
        "view": {
            "offset": 0,
            "limit": 50,
            "search": "",
            "team_id": None,
            "status_id": None,
            "offline": False,
            "skill_id": None,
        },
        "waiting": [],
        "skills_backlog": [],
        "alerts": [],
        "statuses": [],
        "teams": [],
        "skills": [],
        **changes,
    }


# --- strict types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "data", "path"),
    [
        (protocol.OfferClosed, {"offer_id": 1, "work_item_id": 2, "outcome": "lost"}, "outcome"),
        (
            protocol.OfferClosed,
            {"offer_id": "1", "work_item_id": 2, "outcome": "declined"},
            "offer_id",
        ),
        (protocol.WorkClosed, {"work_item_id": 1}, "wrap_up_until"),
        (protocol.WorkClosed, {"work_item_id": 1, "wrap_up_until": "soon"}, "wrap_up_until"),
        (protocol.CustomerTyping, {"interaction_id": 1, "work_item_id": 2, "typing": 1}, "typing"),
        (
            protocol.ChatStarted,
            {"interaction_id": 1, "case_number": "C-1", "customer_name": "M"},
            "resume_token",
        ),
        (protocol.AgentTyping, {"name": None, "typing": False}, "name"),
        (protocol.Error, {"code": "oops", "message": "", "field": None, "ref": None}, "code"),
    ],
)
def test_server_payloads_are_strict_and_closed(model, data, path) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    assert refused.value.errors()[0]["loc"][0] == path


def test_server_payloads_refuse_fields_the_protocol_does_not_define() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        protocol.WorkClosed.model_validate({"work_item_id": 1, "wrap_up_until": None, "x": 1})


# --- client frames -------------------------------------------------------------------------


def parsed(data: dict, frame_type: str = "offer.decline") -> protocol.ClientData:
    text = json.dumps({"type": frame_type, "data": data})
    frames = {**protocol.AGENT.client, **protocol.CHAT.client}
    return parse_frame(text, frame_types=frames).parsed()


def test_a_client_frame_becomes_its_typed_definition() -> None:
    decline = parsed({"offer_id": 7, "reason_id": None, "note": None, "unknown": 1})
    assert decline == protocol.OfferDecline(offer_id=7, reason_id=None, note="")
    assert parsed({"typing": True}, "chat.typing") == protocol.ChatTyping(typing=True)
    assert parsed({}, "chat.end") == protocol.ChatEnd()


@pytest.mark.parametrize(
    ("frame_type", "data", "message"),
    [
        ("offer.accept", {}, "offer_id: required"),
        ("offer.accept", {"offer_id": 0}, "offer_id: a positive integer is required"),
        ("offer.accept", {"offer_id": False}, "offer_id: a positive integer is required"),
        ("presence.set", {}, "status_id: required"),
        ("chat.message", {"body": "   "}, "body: a non-empty string is required"),
        ("chat.message", {"body": 5}, "body: a non-empty string is required"),
        ("chat.message", {"body": "x" * 4001}, "body: at most 4000 characters"),
        ("work.typing", {"work_item_id": 1, "typing": "yes"}, "typing: true or false is required"),
        ("work.call", {"work_item_id": 1, "phone": "1" * 65}, "phone: at most 64 characters"),
    ],
)
def test_a_bad_client_frame_names_its_field_in_words_people_read(frame_type, data, message) -> None:
    with pytest.raises(FrameError) as refused:
        parsed(data, frame_type)
    assert (refused.value.code, refused.value.message) == ("invalid_frame", message)
    assert refused.value.field == message.split(":")[0]


# --- the definitions agree with the models they describe -----------------------------------


def test_the_protocol_limits_are_those_the_crm_enforces() -> None:
    assert protocol.MAX_MESSAGE_LENGTH == crm_messages.MAX_MESSAGE_LENGTH
    assert protocol.MAX_NAME_LENGTH == crm_web_chat.MAX_NAME_LENGTH


def test_the_enumerations_are_the_models_choices() -> None:
    assert set(typing.get_args(protocol.ChannelKind)) == set(ChannelKind.values)
    assert literal_values(protocol.Message, "sender") == set(Message.Sender.values)
    assert literal_values(protocol.Message, "delivery") == set(Message.Delivery.values)
    assert literal_values(protocol.OfferClosed, "outcome") <= set(Offer.Outcome.values)
    assert literal_values(protocol.AgentItem, "state") <= set(WorkItem.Status.values)


def test_every_frame_type_has_one_definition_per_socket_and_direction() -> None:
    for socket in protocol.SOCKETS:
        for frame_type, model in socket.client.items():
            assert model.type == frame_type
        assert "error" in socket.server
    assert len(protocol.client_frame_types()) == 15
    assert len(protocol.server_event_types()) == 15
