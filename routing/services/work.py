"""The agent's work on an item they hold: replies, notes, typing, a call to the customer, and
closing it with a disposition and a wrap-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contactcenter.crm import calls, messages
from contactcenter.crm.files import Upload, read_uploads
from contactcenter.crm.interactions import close_interaction
from contactcenter.crm.models import ChannelKind, Interaction, Message
from contactcenter.kernel.errors import InvalidInput
from routing import events
from routing.models import Agent, Disposition, WorkItem
from routing.selectors import access
from routing.services import triggers
from routing.services.steps import system_note


def send_agent_message(*, agent: Agent, work_item_id: int, body: str, files: tuple = ()) -> Message:
    return _post_reply(agent, access.access_work_item(agent, work_item_id), body, files)


def _post_reply(agent: Agent, item: WorkItem, body: str, files: tuple) -> Message:
    with transaction.atomic():
        return messages.post_agent_message(
            interaction=item.interaction,
            author=agent.user,
            body=body,
            work_item_id=item.pk,
            agent_id=agent.pk,
            files=files,
        )


def send_agent_reply(
    *, agent: Agent, work_item_id: int, body: str, uploads: list[Upload]
) -> Message:
    """The agent's reply with files from a form, which are read only once the item and their
    sizes pass: an upload that cannot be sent is refused before it is read into memory."""
    item = access.access_work_item(agent, work_item_id)
    messages.check_reply_files(item.interaction.channel, [upload.size for upload in uploads])
    return _post_reply(agent, item, body, read_uploads(uploads))


def escalate_to_call(*, agent: Agent, work_item_id: int, phone: str = "") -> Interaction:
    """The agent calls the customer of a text conversation they work on: a voice contact on
    the same case, placed by the provider and then routed to this agent first."""
    item = access.access_work_item(agent, work_item_id)
    return calls.escalate_to_call(
        item.interaction, agent_id=agent.pk, agent_name=agent.name, phone=phone
    )


def agent_typing(*, agent: Agent, work_item_id: int, typing: bool) -> None:
    """The agent is writing to the customer of a chat they work on (NotFound otherwise)."""
    item = access.access_work_item(agent, work_item_id)
    if item.interaction.channel == ChannelKind.CHAT:
        events.agent_typing(item.interaction_id, name=agent.name, typing=typing)


def close_work(
    *,
    agent: Agent,
    work_item_id: int,
    disposition_id: int | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """The agent finishes the item with a disposition (required while any are configured):
    the contact closes, and their capacity frees up once the routing configuration's wrap-up
    time (after-contact work) has passed."""
    now = now or timezone.now()
    with transaction.atomic():
        item = access.access_work_item(agent, work_item_id, for_update=True)
        disposition = _disposition(disposition_id)
        wrap_up = item.queue.routing_config.wrap_up_seconds
        item.status = WorkItem.Status.CLOSED
        item.closed_at = now
        item.disposition = disposition
        item.wrap_up_until = now + timedelta(seconds=wrap_up) if wrap_up else None
        item.save(update_fields=["status", "closed_at", "disposition", "wrap_up_until"])
        Agent.objects.filter(pk=agent.pk).update(last_work_ended_at=now)
        system_note(item, f"{agent.name} closed the conversation.", agent_id=agent.pk)
        close_interaction(item.interaction, now=now)
        events.work_closed(agent.pk, item.pk, wrap_up_until=item.wrap_up_until)
        events.chat_status(item.interaction_id, state="closed")
        events.agent_updated(agent.pk)
        if item.wrap_up_until is None:
            triggers.request_round()
        else:
            # The capacity stays held until then: a round now could not use it.
            triggers.wrap_up_ending.send_after_commit(
                triggers.WrapUpEnding(agent_id=agent.pk, at=item.wrap_up_until)
            )
    return item


def wrap_up_ended(*, agent_id: int) -> None:
    """An agent's wrap-up ended: their console hears that the capacity is back, and a round
    comes to use it."""
    events.agent_updated(agent_id)
    triggers.dispatch_round()


def _disposition(disposition_id: int | None) -> Disposition | None:
    active = Disposition.objects.filter(is_active=True)
    if disposition_id is None:
        if active.exists():
            raise InvalidInput("Choose how the conversation ended.", field="disposition_id")
        return None
    disposition = active.filter(pk=disposition_id).first()
    if disposition is None:
        raise InvalidInput("Choose one of the listed dispositions.", field="disposition_id")
    return disposition


def add_internal_note(*, agent: Agent, work_item_id: int, body: str) -> Message:
    """A note on the conversation for colleagues: the customer never sees it."""
    item = access.access_work_item(agent, work_item_id)
    return messages.post_internal_note(
        interaction=item.interaction,
        author=agent.user,
        body=body,
        work_item_id=item.pk,
        agent_id=agent.pk,
    )


def announce_wrap_ups_ended(*, now: datetime | None = None) -> int:
    """Tell the agents whose wrap-up ended since the last sweep that their capacity is back.

    The safety net of ``wrap_up_ended``, which runs at each wrap-up's end: a task lost with
    its worker, or a process restarted in the embedded mode, loses that call."""
    now = now or timezone.now()
    since = now - timedelta(seconds=2 * settings.ROUTING_SWEEP_SECONDS)
    agent_ids = set(
        WorkItem.objects.filter(
            status=WorkItem.Status.CLOSED, wrap_up_until__gt=since, wrap_up_until__lte=now
        ).values_list("agent_id", flat=True)
    )
    for agent_id in agent_ids:
        events.agent_updated(agent_id)
    return len(agent_ids)
