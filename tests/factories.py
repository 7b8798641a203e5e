"""Small builders for test data: each test makes only what it needs."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from contactcenter.crm.models import Interaction
from contactcenter.crm.web_chat import start_web_chat
from routing.models import (
    Agent,
    AgentSkill,
    DeclineReason,
    Disposition,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    Skill,
    WorkItem,
)
from routing.services.conversations import post_customer_message

_numbers = itertools.count(1)
PASSWORD = "test-password-123"


def make_user(username: str | None = None, **fields):
    username = username or f"user{next(_numbers)}"
    return get_user_model().objects.create_user(
        username, f"{username}@example.com", PASSWORD, **fields
    )


def make_supervisor(username: str | None = None):
    user = make_user(username or f"supervisor{next(_numbers)}")
    user.user_permissions.add(
        Permission.objects.get(codename="supervise", content_type__app_label="routing")
    )
    return user


def chat_queue() -> Queue:
    return ServiceChannel.objects.select_related("default_queue").get(kind="chat").default_queue


def status(name: str) -> PresenceStatus:
    return PresenceStatus.objects.get(name=name)


def make_agent(
    username: str | None = None,
    *,
    capacity: int = 6,
    available: bool = False,
    queues: list[Queue] | None = None,
    first_name: str = "",
    skills: dict[str, int] | None = None,
) -> Agent:
    user = make_user(username, first_name=first_name)
    agent = Agent.objects.create(
        user=user, capacity=capacity, status=status("Available") if available else None
    )
    for queue in queues if queues is not None else [chat_queue()]:
        queue.members.add(agent)
    for name, level in (skills or {}).items():
        AgentSkill.objects.create(agent=agent, skill=skill(name), level=level)
    return agent


def skill(name: str) -> Skill:
    return Skill.objects.get_or_create(name=name)[0]


def make_queue(
    name: str, *, routing_priority: int = 10, units: int = 2, timeout: int = 30
) -> Queue:
    config = RoutingConfig.objects.create(
        name=f"{name} config",
        routing_priority=routing_priority,
        units_per_item=units,
        push_timeout_seconds=timeout,
    )
    return Queue.objects.create(name=name, routing_config=config)


def start_chat(
    name: str = "Maria Garcia", email: str | None = None, body: str = "Hello", verified: bool = True
) -> Interaction:
    """A signed-in shopper's chat (the site vouches for the email) unless ``verified`` is off."""
    email = email or name.lower().replace(" ", ".") + f"{next(_numbers)}@example.com"
    interaction = start_web_chat(name=name, email=email, verified=verified)
    post_customer_message(interaction_id=interaction.pk, body=body)
    return interaction


def work_item_of(interaction: Interaction) -> WorkItem:
    return WorkItem.objects.get(interaction=interaction)


def decline_reason(name: str = "Busy with another customer") -> DeclineReason:
    """One of the reasons the reference data configures."""
    return DeclineReason.objects.get(name=name)


def text_message(
    body: str,
    *,
    sid: str,
    sender: str = "+14155550100",
    to: str = "+14155559999",
    channel: str = "sms",
):
    """An inbound text as the Twilio adapter hands it to the CRM."""
    from contactcenter.crm.inbound import InboundMessage
    from contactcenter.crm.models import ContactPoint

    return InboundMessage(
        channel=channel,
        address_kind=ContactPoint.Kind.PHONE,
        address=sender,
        body=body,
        provider_message_id=f"twilio:{sid}",
        business_address=to,
    )


def disposition(name: str = "Resolved") -> int:
    """The id of one of the reference dispositions agents close work with."""
    return Disposition.objects.get(name=name).pk
