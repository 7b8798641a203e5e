"""Websocket consumers: each validates a frame, calls one service, and relays pushed events."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from channels_app import web_chat
from channels_app.console_liveness import open_consoles
from channels_app.dashboard_feed import dashboard_feed
from channels_app.db_calls import db_call
from channels_app.frames import FrameError, parse_frame
from contactcenter.crm import selectors as crm_selectors
from contactcenter.crm import web_chat as crm_web_chat
from contactcenter.kernel import protocol
from contactcenter.kernel.errors import DomainError
from contactcenter.kernel.realtime import (
    SUPERVISORS_GROUP,
    agent_group,
    envelope,
    interaction_group,
)
from contactcenter.kernel.roles import is_supervisor
from routing import events as routing_events
from routing.models import Agent
from routing.selectors import payloads
from routing.services import conversations, departures, offers, presence, transfers, work
from supervisor import selectors as supervisor_selectors

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class FrameConsumer(AsyncJsonWebsocketConsumer):
    """Base: parse and size-check every text frame, turn domain errors into error frames.

    ``frame_types`` are the socket's client frames in the protocol (``protocol.CHAT.client``):
    the handler gets a frame's data as its type's definition, every field already checked.
    """

    frame_types: Mapping[str, type[protocol.ClientData]] = {}

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        ref = None
        try:
            frame = parse_frame(text_data, frame_types=self.frame_types)
            ref = frame.type
            await self.handle_frame(frame.parsed())
        except DomainError as error:
            await self.send_error(error, ref=ref)
        except Exception:
            # A bug must not cost the user their socket: log it, answer with an error frame.
            logger.exception("frame %s failed", ref)
            await self.send_error(
                DomainError("Something went wrong on our side; nothing was changed."),
                ref=ref,
                code="internal_error",
            )

    async def handle_frame(self, frame: protocol.ClientData) -> None:
        raise FrameError("unknown_type", f"Unknown frame type {frame.type!r}.", field="type")

    async def send_error(
        self, error: DomainError, *, ref: str | None, code: str | None = None
    ) -> None:
        await self.send_json(
            envelope(
                "error",
                {
                    "code": code or error.code,
                    "message": error.message,
                    "field": error.field,
                    "ref": ref,
                },
            )
        )

    async def push_frame(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])

    async def push_frames(self, event: dict[str, Any]) -> None:
        """Several frames for one group in one layer message (a round's offers and load)."""
        for frame in event["frames"]:
            await self.send_json(frame)


class VisitorChatConsumer(FrameConsumer):
    """A customer on the web chat page or widget. Anonymous: the chat is theirs by holding the
    socket, or, after a reload, the signed resume token the page kept."""

    frame_types = protocol.CHAT.client

    async def connect(self) -> None:
        self.interaction_id: int | None = None
        self.ended = False
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.interaction_id is None:
            return
        await self.channel_layer.group_discard(
            interaction_group(self.interaction_id), self.channel_name
        )
        if self.ended:
            return
        if settings.CHAT_RESUME_SECONDS:
            # Perhaps only a reload: the sweep ends the chat if they do not come back.
            await db_call(crm_web_chat.customer_went_away)(
                self.interaction_id, connection=self.connection
            )
        else:
            await db_call(departures.customer_left)(interaction_id=self.interaction_id)

    async def handle_frame(self, frame: protocol.ClientData) -> None:
        if isinstance(frame, protocol.ChatStart):
            await self.start(frame)
        elif isinstance(frame, protocol.ChatResume):
            await self.resume(frame)
        elif self.interaction_id is None or self.ended:
            raise FrameError("not_started", "Start the chat with your name and email first.")
        elif isinstance(frame, protocol.ChatMessage):
            await db_call(conversations.post_customer_message)(
                interaction_id=self.interaction_id, body=frame.body
            )
        elif isinstance(frame, protocol.ChatTyping):
            await db_call(routing_events.customer_typing)(self.interaction_id, typing=frame.typing)
        elif isinstance(frame, protocol.ChatEnd):
            self.ended = True
            await db_call(departures.customer_left)(interaction_id=self.interaction_id)
            await self.send_json(
                envelope("chat.status", payloads.chat_status_data(state="closed", note="ended"))
            )

    async def start(self, frame: protocol.ChatStart) -> None:
        if self.interaction_id is not None:
            raise FrameError("conflict", "This chat has already started.")
        interaction = await db_call(web_chat.start_chat)(
            name=frame.name,
            email=frame.email,
            site_key=frame.site,
            identity_hash=frame.identity_hash,
        )
        # The visitor hears back the name they typed, never the name stored for that email:
        # anyone can type an address, and it must not reveal whose it is.
        await self.join(interaction.pk, interaction.case.number, frame.name.strip())

    async def resume(self, frame: protocol.ChatResume) -> None:
        if self.interaction_id is not None:
            raise FrameError("conflict", "This chat has already started.")
        interaction, name = await db_call(crm_web_chat.resume_web_chat)(frame.token)
        await self.join(interaction.pk, interaction.case.number, name)
        history = await db_call(crm_selectors.customer_transcript)(interaction.pk)
        await self.send_json(
            envelope(
                "chat.history",
                {"messages": [crm_selectors.message_payload(message) for message in history]},
            )
        )
        status = await db_call(payloads.chat_status_now)(interaction.pk)
        await self.send_json(envelope("chat.status", status))

    async def join(self, interaction_id: int, case_number: str, name: str) -> None:
        self.interaction_id = interaction_id
        self.connection = uuid.uuid4().hex
        await db_call(crm_web_chat.customer_connected)(interaction_id, connection=self.connection)
        await self.channel_layer.group_add(interaction_group(interaction_id), self.channel_name)
        await self.send_json(
            envelope(
                "chat.started",
                {
                    "interaction_id": interaction_id,
                    "case_number": case_number,
                    "customer_name": name,
                    "resume_token": crm_web_chat.chat_resume_token(interaction_id, name=name),
                },
            )
        )


class AgentConsumer(FrameConsumer):
    """The agent console: presence, offers, replies, closing work."""

    frame_types = protocol.AGENT.client

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.agent = await db_call(Agent.objects.select_related("user").filter(user=user).first)()
        if self.agent is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = agent_group(self.agent.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await db_call(presence.console_opened)(agent=self.agent)
        open_consoles.opened(self.agent.pk)
        self.console_open = True
        try:
            snapshot = await db_call(payloads.console_snapshot)(self.agent, timezone.now())
            await self.send_json(envelope("console.snapshot", snapshot))
        except BaseException:
            # Channels runs no disconnect for a connect that failed: this console must not be
            # reported alive for ever.
            self.console_open = False
            open_consoles.closed(self.agent.pk)
            raise

    async def disconnect(self, code: int) -> None:
        if getattr(self, "console_open", False):
            self.console_open = False
            open_consoles.closed(self.agent.pk)
            await db_call(presence.console_closed)(agent=self.agent)
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def handle_frame(self, frame: protocol.ClientData) -> None:
        call = db_call
        if isinstance(frame, protocol.PresenceSet):
            await call(presence.set_presence)(
                agent=self.agent, status_id=frame.status_id, changed_by=self.agent.user
            )
        elif isinstance(frame, protocol.OfferAccept):
            await call(offers.accept_offer)(agent=self.agent, offer_id=frame.offer_id)
        elif isinstance(frame, protocol.OfferDecline):
            await call(offers.decline_offer)(
                agent=self.agent,
                offer_id=frame.offer_id,
                reason_id=frame.reason_id,
                note=frame.note,
            )
        elif isinstance(frame, protocol.MessageSend):
            await call(work.send_agent_message)(
                agent=self.agent, work_item_id=frame.work_item_id, body=frame.body
            )
        elif isinstance(frame, protocol.WorkClose):
            await call(work.close_work)(
                agent=self.agent,
                work_item_id=frame.work_item_id,
                disposition_id=frame.disposition_id,
            )
        elif isinstance(frame, protocol.WorkTransfer):
            await call(transfers.transfer_work)(
                agent=self.agent,
                work_item_id=frame.work_item_id,
                queue_id=frame.queue_id,
                to_agent_id=frame.agent_id,
                skill_id=frame.skill_id,
                note=frame.note,
            )
        elif isinstance(frame, protocol.WorkNote):
            await call(work.add_internal_note)(
                agent=self.agent, work_item_id=frame.work_item_id, body=frame.body
            )
        elif isinstance(frame, protocol.WorkCall):
            await call(work.escalate_to_call)(
                agent=self.agent, work_item_id=frame.work_item_id, phone=frame.phone
            )
        elif isinstance(frame, protocol.WorkTyping):
            await call(work.agent_typing)(
                agent=self.agent, work_item_id=frame.work_item_id, typing=frame.typing
            )


class SupervisorConsumer(FrameConsumer):
    """The live dashboard: a snapshot of its view on connect and on each ``dashboard.view``,
    then the deltas this process's feed builds for that view (channels_app.dashboard_feed)."""

    frame_types = protocol.SUPERVISOR.client

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await db_call(is_supervisor)(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(SUPERVISORS_GROUP, self.channel_name)
        await self.accept()
        await dashboard_feed.watch(self, supervisor_selectors.DEFAULT_VIEW)

    async def disconnect(self, code: int) -> None:
        dashboard_feed.leave(self)
        await self.channel_layer.group_discard(SUPERVISORS_GROUP, self.channel_name)

    async def handle_frame(self, frame: protocol.ClientData) -> None:
        if not isinstance(frame, protocol.DashboardView):
            await super().handle_frame(frame)
            return
        view = supervisor_selectors.AgentView(**frame.model_dump())
        await dashboard_feed.watch(self, view)

    async def dashboard_changed(self, event: dict[str, Any]) -> None:
        dashboard_feed.changed(event)
