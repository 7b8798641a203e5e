"""The websocket protocol: one typed definition for every frame, in both directions.

docs/protocol.md describes the protocol for people; this module states it for code. Every
server → client event type has a pydantic model of its ``data``, every client → server frame
type a model of what the server accepts, and ``SOCKETS`` says which of them each socket
(``/ws/chat/``, ``/ws/agent/``, ``/ws/supervisor/``) carries. The shared shapes (agent, status,
offer, work_item, message) are models of their own, named in ``SHAPES`` as the document names
them. The design follows Zulip's event types (pydantic models of every event) and its event
schema checks.

Why here, in the kernel: everyone who needs the definitions can import them. The websocket
consumers (``channels_app``) parse client frames through them; the tests check every frame the
code builds against them; and the layers that build payloads (routing, the CRM, supervisor)
may name them too, since imports point down only and the kernel is the bottom layer. So this
module is pure type definitions: it imports pydantic and the standard library, nothing from
the apps. Limits that the CRM also enforces (a message's length, a name's) are restated here,
and a test holds them equal.

Server → client payloads are closed (``extra="forbid"``): a field the document does not name
is a mistake, in the code or in the document. Types are strict: an int is not a bool nor a
string of digits, and a field is nullable only where the protocol says null. Production never
validates what it sends (``contactcenter.kernel.realtime.frame_built`` lets the tests watch).

Client → server data is validated strictly too (``offer_id: "7"`` is refused), but unknown
fields are ignored, as they always were: a client may send what a newer server understands.
Turning a ``ValidationError`` into an error frame is the edge's business
(``channels_app.frames``).

One event type, one definition per socket: ``chat.typing`` is both what the visitor sends, what
the visitor is shown (the agent is typing) and what the agent is shown (the customer is
typing), three models on two sockets. ``check_server_frame`` accepts a frame that matches the
model of its type on any socket; each model is closed, so a frame matches only the shape it
was built as.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from contactcenter.kernel.ids import MAX_ID

PROTOCOL_VERSION = 1

# Restated from the CRM (contactcenter.crm.messages, contactcenter.crm.web_chat); a test holds
# them equal.
MAX_MESSAGE_LENGTH = 4000
MAX_NAME_LENGTH = 120


# --- field types ---------------------------------------------------------------------------


def _utc_timestamp(value: str) -> str:
    """Times are ISO 8601 UTC strings (docs/protocol.md)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("timestamp", "an ISO 8601 time is required") from None
    offset = moment.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise PydanticCustomError("timestamp", "a UTC time (+00:00) is required")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "a non-empty string is required")
    return value


def _null_as_empty(value: Any) -> Any:
    return "" if value is None else value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=0)]
Seconds = int  # durations are whole seconds
Fraction = Annotated[float, Field(ge=0, le=1)]
Timestamp = Annotated[str, AfterValidator(_utc_timestamp)]
ChannelKind = Literal["chat", "email", "sms", "messaging", "social", "voice"]


# A client's text: ``NonBlank`` must hold something besides spaces; ``NullIsEmpty`` may be
# left out or null, both read as "".
NonBlank = AfterValidator(_not_blank)
NullIsEmpty = BeforeValidator(_null_as_empty)


# --- server → client -----------------------------------------------------------------------


class Payload(BaseModel):
    """A server → client ``data`` object, or an object inside one: closed and strict."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Named(Payload):
    """A choice offered by name: a queue, a skill, a team, a reason, a disposition."""

    id: Id
    name: str


class Attachment(Payload):
    id: Id
    filename: str
    content_type: str
    size: Count
    url: str


class Message(Payload):
    """A message of a conversation, as the agent's console and the visitor's chat show it."""

    id: Id
    interaction_id: Id
    work_item_id: Id | None
    sender: Literal["customer", "agent", "system", "bot"]
    author_name: str
    body: str
    created_at: Timestamp
    delivery: Literal["", "pending", "sent", "failed"]
    delivery_error: str
    internal: bool
    attachments: list[Attachment]


class Agent(Payload):
    """What the console shows of its agent: presence and load."""

    id: Id
    name: str
    status_id: Id | None
    status_name: str
    status_since: Timestamp
    capacity: Count
    used_units: Count


class Status(Payload):
    """A presence status an agent may choose, and the channels it accepts work on."""

    id: Id
    name: str
    channels: list[ChannelKind]


class Offer(Payload):
    offer_id: Id
    work_item_id: Id
    channel: ChannelKind
    queue: str
    customer_name: str
    preview: str
    waiting_since: Timestamp
    expires_at: Timestamp
    timeout_seconds: Seconds
    remaining_seconds: Count


class EarlierConversation(Payload):
    """Another conversation of the same case, shown with a work item."""

    interaction_id: Id
    channel: ChannelKind
    started_at: Timestamp
    messages: list[Message]


class WorkItem(Payload):
    """A contact the agent works, with its transcript and its case's earlier conversations."""

    work_item_id: Id
    interaction_id: Id
    channel: ChannelKind
    queue: str
    customer_name: str
    customer_email: str
    case_number: str
    accepted_at: Timestamp
    units: Count
    messages: list[Message]
    customer_id: Id
    claimed_email: str
    customer_address: str
    subject: str
    started_at: Timestamp
    earlier: list[EarlierConversation]


class Error(Payload):
    """``error``: a frame was refused, or failed; nothing was changed."""

    code: Literal[
        "invalid_json",
        "frame_too_large",
        "unknown_type",
        "invalid_frame",
        "not_found",
        "forbidden",
        "conflict",
        "not_started",
        "internal_error",
    ]
    message: str
    field: str | None
    ref: str | None


# The visitor's chat


class ChatStarted(Payload):
    interaction_id: Id
    case_number: str
    customer_name: str
    resume_token: str


class ChatHistory(Payload):
    messages: list[Message]


class AgentTyping(Payload):
    """``chat.typing`` to the visitor: the agent is typing."""

    name: str
    typing: bool


class ChatStatus(Payload):
    state: Literal["assistant", "waiting", "connected", "closed"]
    position: Annotated[int, Field(ge=1)] | None
    position_beyond: Annotated[int, Field(ge=1)] | None
    agents_available: Count | None
    agent_name: str | None
    note: Literal["resolved", "ended", "idle"] | None


# The agent's console


class CannedResponse(Payload):
    id: Id
    title: str
    body: str


class TransferTargets(Payload):
    queues: list[Named]
    agents: list[Named]
    skills: list[Named]


class ConsoleSnapshot(Payload):
    agent: Agent
    statuses: list[Status]
    decline_reasons: list[Named]
    dispositions: list[Named]
    canned_responses: list[CannedResponse]
    transfer_targets: TransferTargets
    offers: list[Offer]
    work_items: list[WorkItem]


class OfferClosed(Payload):
    offer_id: Id
    work_item_id: Id
    outcome: Literal["accepted", "declined", "timed_out", "cancelled"]


class WorkClosed(Payload):
    work_item_id: Id
    wrap_up_until: Timestamp | None


class CustomerTyping(Payload):
    """``chat.typing`` to the agent: the customer is typing."""

    interaction_id: Id
    work_item_id: Id
    typing: bool


class MessageDelivery(Payload):
    id: Id
    interaction_id: Id
    delivery: Literal["sent", "failed"]
    delivery_error: str


# The supervisor's dashboard


class QueueRow(Payload):
    id: Id
    name: str
    waiting: Count
    longest_wait_seconds: Seconds
    average_wait_seconds: Seconds
    waiting_past_alert: Count
    alert_wait_seconds: Seconds
    offered_today: Count
    handled_today: Count
    abandoned_today: Count
    average_speed_of_answer_today: Seconds | None
    service_level_today: Fraction | None
    service_level_goal: Fraction
    service_level_seconds: Seconds
    below_goal: bool


class AgentItem(Payload):
    work_item_id: Id
    channel: ChannelKind
    customer_name: str
    state: Literal["offered", "assigned"]
    since: Timestamp


class AgentRow(Payload):
    id: Id
    name: str
    team_id: Id | None
    queue_ids: list[Id]
    skill_ids: list[Id]
    status_id: Id | None
    status_name: str
    status_since: Timestamp
    capacity: Count
    used_units: Count
    handled_today: Count
    declined_today: Count
    missed_today: Count
    items: list[AgentItem]


class WaitingRow(Payload):
    work_item_id: Id
    queue: str
    channel: ChannelKind
    customer_name: str
    priority: int
    enqueued_at: Timestamp
    skills: list[str]
    why: str


class SkillBacklog(Payload):
    skill: str
    waiting: Count
    available_agents: Count


class Alert(Payload):
    id: str
    kind: Literal["long_wait", "service_level", "status_time"]
    text: str


class DashboardStatus(Payload):
    id: Id
    name: str
    open_for_work: bool


# A dashboard's page of agents: at most this many rows, a search at most this long.
MAX_DASHBOARD_PAGE = 200
MAX_DASHBOARD_SEARCH = 100


class DashboardViewInForce(Payload):
    offset: Count
    limit: Annotated[int, Field(ge=1, le=MAX_DASHBOARD_PAGE)]
    search: str
    team_id: Id | None
    status_id: Id | None
    offline: bool
    skill_id: Id | None


class DashboardSnapshot(Payload):
    generated_at: Timestamp
    queues: list[QueueRow]
    bot_resolved_today: Count
    agents: list[AgentRow]
    agents_total: Count
    view: DashboardViewInForce
    waiting: list[WaitingRow]
    skills_backlog: list[SkillBacklog]
    alerts: list[Alert]
    statuses: list[DashboardStatus]
    teams: list[Named]
    skills: list[Named]


class DashboardDelta(Payload):
    """What changed since the last frame, for one view. ``alerts``, ``skills_backlog`` and
    ``bot_resolved_today`` are present only when they changed (whole, as in the snapshot)."""

    generated_at: Timestamp
    queues: list[QueueRow]
    agents: list[AgentRow]
    agents_removed: list[Id]
    agents_total: Count
    waiting: list[WaitingRow]
    waiting_removed: list[Id]
    alerts: list[Alert] = Field(default_factory=list)
    skills_backlog: list[SkillBacklog] = Field(default_factory=list)
    bot_resolved_today: Count = 0


# --- client → server -----------------------------------------------------------------------


class ClientData(BaseModel):
    """A client → server frame's ``data``: strict, unknown fields ignored. ``type`` is the
    frame type it is sent as. Fields are checked in the order they are declared, and the first
    that fails is the one the error frame names."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    type: ClassVar[str]


class ChatStart(ClientData):
    type = "chat.start"
    name: Annotated[str, Field(max_length=MAX_NAME_LENGTH), NonBlank]
    # Checked as an address by the CRM, which says what is wrong with it.
    email: Annotated[str, Field(max_length=254), NonBlank]
    site: Annotated[str, Field(max_length=40), NullIsEmpty] = ""
    identity_hash: Annotated[str, Field(max_length=128), NullIsEmpty] = ""


class ChatResume(ClientData):
    type = "chat.resume"
    token: Annotated[str, Field(max_length=1000), NonBlank]


class ChatMessage(ClientData):
    type = "chat.message"
    body: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH), NonBlank]


class ChatTyping(ClientData):
    type = "chat.typing"
    typing: bool


class ChatEnd(ClientData):
    type = "chat.end"


class PresenceSet(ClientData):
    type = "presence.set"
    status_id: Id | None  # required; null is offline


class OfferAccept(ClientData):
    type = "offer.accept"
    offer_id: Id


class OfferDecline(ClientData):
    type = "offer.decline"
    offer_id: Id
    reason_id: Id | None = None
    note: Annotated[str, Field(max_length=200), NullIsEmpty] = ""


class MessageSend(ClientData):
    type = "message.send"
    work_item_id: Id
    body: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH), NonBlank]


class WorkClose(ClientData):
    type = "work.close"
    work_item_id: Id
    disposition_id: Id | None = None


class WorkTransfer(ClientData):
    type = "work.transfer"
    work_item_id: Id
    queue_id: Id | None = None
    agent_id: Id | None = None
    skill_id: Id | None = None
    note: Annotated[str, Field(max_length=1000), NullIsEmpty] = ""


class WorkNote(ClientData):
    type = "work.note"
    work_item_id: Id
    body: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH), NonBlank]


class WorkCall(ClientData):
    type = "work.call"
    work_item_id: Id
    phone: Annotated[str, Field(max_length=64), NullIsEmpty] = ""


class WorkTyping(ClientData):
    type = "work.typing"
    work_item_id: Id
    typing: bool


class DashboardView(ClientData):
    type = "dashboard.view"
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_DASHBOARD_PAGE)] = 50
    search: Annotated[str, Field(max_length=MAX_DASHBOARD_SEARCH), NullIsEmpty] = ""
    team_id: Id | None = None
    status_id: Id | None = None
    offline: bool = False
    skill_id: Id | None = None


# --- the sockets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Socket:
    """What one websocket carries: the frames a client may send and the events it hears."""

    path: str
    client: Mapping[str, type[ClientData]]
    server: Mapping[str, type[Payload]]


def _client_frames(*models: type[ClientData]) -> dict[str, type[ClientData]]:
    return {model.type: model for model in models}


CHAT = Socket(
    path="/ws/chat/",
    client=_client_frames(ChatStart, ChatResume, ChatMessage, ChatTyping, ChatEnd),
    server={
        "chat.started": ChatStarted,
        "chat.history": ChatHistory,
        "chat.typing": AgentTyping,
        "chat.status": ChatStatus,
        "message.created": Message,
        "error": Error,
    },
)
AGENT = Socket(
    path="/ws/agent/",
    client=_client_frames(
        PresenceSet,
        OfferAccept,
        OfferDecline,
        MessageSend,
        WorkClose,
        WorkTransfer,
        WorkNote,
        WorkTyping,
        WorkCall,
    ),
    server={
        "console.snapshot": ConsoleSnapshot,
        "agent.updated": Agent,
        "offer.created": Offer,
        "offer.closed": OfferClosed,
        "work.assigned": WorkItem,
        "work.closed": WorkClosed,
        "message.created": Message,
        "chat.typing": CustomerTyping,
        "message.delivery": MessageDelivery,
        "error": Error,
    },
)
SUPERVISOR = Socket(
    path="/ws/supervisor/",
    client=_client_frames(DashboardView),
    server={
        "dashboard.snapshot": DashboardSnapshot,
        "dashboard.delta": DashboardDelta,
        "error": Error,
    },
)
SOCKETS = (CHAT, AGENT, SUPERVISOR)

# The shapes docs/protocol.md defines once and names in its tables.
SHAPES: dict[str, type[Payload]] = {
    "agent": Agent,
    "status": Status,
    "offer": Offer,
    "work_item": WorkItem,
    "message": Message,
}


def server_event_types() -> frozenset[str]:
    return frozenset(event_type for socket in SOCKETS for event_type in socket.server)


def client_frame_types() -> frozenset[str]:
    return frozenset(frame_type for socket in SOCKETS for frame_type in socket.client)


# --- checking what the server sends (tests) ------------------------------------------------


class ServerEnvelope(BaseModel):
    """Every server → client frame: ``{"type", "v", "data"}``, nothing else."""

    model_config = ConfigDict(strict=True, extra="forbid")
    type: str
    # An int range, not Literal[1]: a Literal would take True for 1.
    v: Annotated[int, Field(ge=PROTOCOL_VERSION, le=PROTOCOL_VERSION)]
    data: dict[str, Any]


class FrameSchemaError(ValueError):
    """A frame the server built does not match the protocol."""


@cache
def _server_data(event_type: str) -> TypeAdapter[Any] | None:
    defined = (socket.server[event_type] for socket in SOCKETS if event_type in socket.server)
    models = list(dict.fromkeys(defined))
    if not models:
        return None
    shape: Any = models[0]
    for model in models[1:]:
        shape = shape | model
    return TypeAdapter(shape)


def check_server_frame(frame: Any) -> None:
    """Raise ``FrameSchemaError`` unless ``frame`` is a server → client frame of a known type
    whose data matches that type's definition and survives a trip through JSON unchanged.

    The message names the type, the path of each bad field and the value found there.
    """
    event_type = frame.get("type") if isinstance(frame, dict) else None
    label = repr(event_type) if isinstance(event_type, str) else "without a type"
    try:
        ServerEnvelope.model_validate(frame)
    except ValidationError as exc:
        raise FrameSchemaError(f"frame {label}: bad envelope\n{_describe(exc, ())}") from None
    adapter = _server_data(event_type)
    if adapter is None:
        raise FrameSchemaError(
            f"frame {label}: no such server → client event type in "
            "contactcenter/kernel/protocol.py (add it there and to docs/protocol.md)"
        )
    try:
        adapter.validate_python(frame["data"])
    except ValidationError as exc:
        raise FrameSchemaError(
            f"frame {label} does not match its schema\n{_describe(exc, ('data',))}"
        ) from None
    try:
        same = json.loads(json.dumps(frame)) == frame
    except (TypeError, ValueError) as exc:
        raise FrameSchemaError(f"frame {label} is not JSON: {exc}") from None
    if not same:
        raise FrameSchemaError(f"frame {label} changes on a trip through JSON: {frame!r}")


def _describe(error: ValidationError, prefix: tuple[str, ...]) -> str:
    lines = []
    for problem in error.errors(include_url=False):
        path = ".".join(str(part) for part in (*prefix, *problem["loc"])) or "(the frame)"
        value = repr(problem.get("input"))
        if len(value) > 200:
            value = value[:200] + "…"
        lines.append(f"  {path}: {problem['msg']} (value: {value})")
    return "\n".join(lines)
