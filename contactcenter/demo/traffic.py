"""Demo traffic: customers keep starting chats and simulated agents work them.

It runs in the Daphne process (embedded mode) and drives the same services the websockets
call, so every chat is routed, offered, accepted, answered and closed for real and the
supervisor view moves. agent01–agent03 are left alone for people trying the console.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.utils import timezone

from contactcenter.crm import bot
from contactcenter.crm.models import Interaction, Message
from contactcenter.crm.web_chat import start_web_chat
from contactcenter.demo.seed import HUMAN_AGENTS, demo_customer_addresses
from contactcenter.kernel.errors import DomainError
from routing.models import Agent, DeclineReason, Disposition, Offer, PresenceStatus, WorkItem
from routing.services.conversations import post_customer_message
from routing.services.offers import accept_offer, decline_offer
from routing.services.presence import set_presence
from routing.services.work import close_work, send_agent_message

logger = logging.getLogger(__name__)

OPENERS = [
    "Hi, where is my order #{n}?",
    "I was charged twice for order #{n}.",
    "Can I change the delivery address of order #{n}?",
    "The app logs me out every few minutes.",
    "Do you ship to Norway?",
    "I'd like a refund for order #{n}, it arrived broken.",
]
CUSTOMER_FOLLOW_UPS = ["Thanks!", "OK, one moment.", "It is {n}.", "Great, that helps."]
AGENT_REPLIES = [
    "Thanks for waiting, {name}. Let me look into that.",
    "I can see order #{n} here. One moment please.",
    "That's sorted now. Anything else I can help with?",
]
MAX_WAITING = 6
TICK_SECONDS = (2.0, 4.0)


async def run_demo_traffic(seed: int | None = None) -> None:
    rng = random.Random(seed)
    await sync_to_async(make_simulated_agents_available)()
    while True:
        await asyncio.sleep(rng.uniform(*TICK_SECONDS))
        try:
            await sync_to_async(demo_tick)(rng)
        except Exception:
            # The demo must keep running even if one step meets a race with a real user.
            logger.exception("demo traffic step failed")


def simulated_agents() -> list[Agent]:
    return list(
        Agent.objects.exclude(user__username__in=HUMAN_AGENTS)
        .filter(user__username__startswith="agent")
        .select_related("user", "status")
    )


def make_simulated_agents_available() -> None:
    available = PresenceStatus.objects.filter(name="Available").first()
    if available is None:
        return
    for agent in simulated_agents():
        if agent.status_id != available.pk:
            set_presence(agent=agent, status_id=available.pk)


def demo_tick(rng: random.Random, *, think_seconds: float = 3) -> None:
    if WorkItem.objects.filter(status=WorkItem.Status.QUEUED).count() < MAX_WAITING:
        start_customer_chat(rng)
    answer_the_bot(rng)
    agents = {agent.pk: agent for agent in simulated_agents()}
    answer_offers(rng, agents, think_seconds=think_seconds)
    work_open_chats(rng, agents)


def answer_the_bot(rng: random.Random) -> None:
    """Demo customers thank the bot when it answered them, and ask for a person when not."""
    talking = Interaction.objects.filter(
        status=Interaction.Status.OPEN,
        bot_status=Interaction.BotStatus.ACTIVE,
        case__customer__contact_points__value__in=[email for _, email in demo_customer_addresses()],
    ).distinct()
    for interaction in talking:
        last = interaction.messages.last()
        if last is None or last.sender != Message.Sender.BOT or rng.random() < 0.5:
            continue
        helped = interaction.bot_answers > 0 and last.body != bot.ASK_ORDER_NUMBER
        post_customer_message(
            interaction_id=interaction.pk,
            body="Thanks!" if helped else "Can I talk to a person?",
        )


def start_customer_chat(rng: random.Random) -> None:
    """A demo customer who is not chatting already starts a chat."""
    chatting = set(
        Interaction.objects.filter(
            status=Interaction.Status.OPEN, case__customer__contact_points__kind="email"
        ).values_list("case__customer__contact_points__value", flat=True)
    )
    idle = [(name, email) for name, email in demo_customer_addresses() if email not in chatting]
    if not idle:
        return
    name, email = rng.choice(idle)
    # Demo shoppers are signed in to the shop, which vouches for their email.
    interaction = start_web_chat(name=name, email=email, verified=True)
    opener = rng.choice(OPENERS).format(n=rng.randint(10000, 99999))
    post_customer_message(interaction_id=interaction.pk, body=opener)


def answer_offers(rng: random.Random, agents: dict[int, Agent], *, think_seconds: float) -> None:
    """Simulated agents answer offers once they have been on screen for a moment."""
    settle = timezone.now() - timedelta(seconds=think_seconds)
    pending = Offer.objects.filter(
        outcome=Offer.Outcome.PENDING, agent_id__in=list(agents), created_at__lte=settle
    )
    reason_id = DeclineReason.objects.filter(is_active=True).values_list("pk", flat=True).first()
    for offer in pending:
        agent = agents[offer.agent_id]
        try:
            if rng.random() < 0.1:
                decline_offer(agent=agent, offer_id=offer.pk, reason_id=reason_id, note="Demo")
            else:
                accept_offer(agent=agent, offer_id=offer.pk)
        except DomainError:
            continue


def work_open_chats(rng: random.Random, agents: dict[int, Agent]) -> None:
    """Simulated agents answer and close; customers answer every agent, people included."""
    demo_emails = [email for _, email in demo_customer_addresses()]
    items = (
        WorkItem.objects.filter(
            status=WorkItem.Status.ASSIGNED,
            interaction__case__customer__contact_points__value__in=demo_emails,
        )
        .distinct()
        .select_related("interaction__case__customer")
    )
    for item in items:
        if rng.random() < 0.5:
            continue
        last = (
            item.interaction.messages.exclude(sender=Message.Sender.SYSTEM)
            .exclude(internal=True)
            .last()
        )
        try:
            if last is not None and last.sender == Message.Sender.AGENT:
                reply = rng.choice(CUSTOMER_FOLLOW_UPS).format(n=rng.randint(10000, 99999))
                post_customer_message(interaction_id=item.interaction_id, body=reply)
            elif item.agent_id in agents:
                simulate_agent_turn(rng, agents[item.agent_id], item)
        except DomainError:
            continue


def simulate_agent_turn(rng: random.Random, agent: Agent, item: WorkItem) -> None:
    said = (
        item.interaction.messages.exclude(sender=Message.Sender.SYSTEM)
        .exclude(internal=True)
        .count()
    )
    if said >= 6 or rng.random() < 0.08:
        close_work(agent=agent, work_item_id=item.pk, disposition_id=resolved_disposition_id())
        return
    reply = rng.choice(AGENT_REPLIES).format(
        name=item.interaction.case.customer.name.split()[0], n=rng.randint(10000, 99999)
    )
    send_agent_message(agent=agent, work_item_id=item.pk, body=reply)


def resolved_disposition_id() -> int | None:
    """Simulated agents close what they worked as resolved (any disposition, if renamed)."""
    return (
        Disposition.objects.filter(is_active=True)
        .order_by("position", "name")
        .values_list("pk", flat=True)
        .first()
    )
