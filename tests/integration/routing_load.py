"""The processes that load the stack in the routing concurrency test, run as

    python -m tests.integration.routing_load setup --total 5000
    python -m tests.integration.routing_load enqueue --first-burst 1000 --burst 500 --go-file PATH
    python -m tests.integration.routing_load churn --stop-file PATH

with the stack's production environment (DATABASE_URL, REDIS_URL). Each goes through the same
services the product uses: intake and enqueue as an inbound channel does (the contacts
themselves are prepared in bulk by setup), and accept, decline, close and presence changes
as agents' consoles do, so every transition races the rounds that the Celery workers run at
the same time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

# Statuses the churn moves agents between; "Missed offer" comes from the reference data.
CHAT_ONLY = "Chat only"
CHAT_QUEUE = "Load chat"
EMAIL_QUEUE = "Load email"
VIP_QUEUE = "Load VIP"
AGENTS = 60
PUSH_TIMEOUT_SECONDS = 2


def setup(seed: int) -> None:
    """Queues with different routing models and capacity rules, skills, limits and agents."""
    from django.contrib.auth import get_user_model

    from routing.models import (
        Agent,
        AgentChannelLimit,
        AgentSkill,
        IntakeRule,
        IntakeRuleSkill,
        PresenceStatus,
        Queue,
        RoutingConfig,
        ServiceChannel,
        Skill,
    )
    from routing.reference import MISSED_STATUS

    rng = random.Random(seed)
    chat = ServiceChannel.objects.get(kind="chat")
    email = ServiceChannel.objects.get(kind="email")
    email.max_items_per_agent = 3
    email.save()
    missed = PresenceStatus.objects.get(name=MISSED_STATUS)
    chat_only, _ = PresenceStatus.objects.get_or_create(name=CHAT_ONLY, defaults={"position": 2})
    chat_only.channels.set([chat])

    def queue(name: str, **config) -> Queue:
        routing = RoutingConfig.objects.create(
            name=name,
            push_timeout_seconds=PUSH_TIMEOUT_SECONDS,
            status_after_missed_offer=missed,
            **config,
        )
        return Queue.objects.create(name=name, routing_config=routing)

    chats = queue(CHAT_QUEUE, units_per_item=2, routing_model="most_available", wrap_up_seconds=1)
    emails = queue(EMAIL_QUEUE, units_per_item=1, routing_model="least_active")
    vip = queue(VIP_QUEUE, routing_priority=1, capacity_percent=50, routing_model="round_robin")
    chat.default_queue = chats
    chat.save()
    email.default_queue = emails
    email.save()
    vip_skill = Skill.objects.create(name="VIP care")
    rule = IntakeRule.objects.create(name="VIP", queue=vip, keywords="vip", priority=5)
    IntakeRuleSkill.objects.create(rule=rule, skill=vip_skill, min_level=3, drop_after_seconds=3)

    user_model = get_user_model()
    for number in range(AGENTS):
        user = user_model.objects.create_user(f"load{number:02d}", password=None)
        agent = Agent.objects.create(user=user, capacity=rng.randint(4, 8))
        agent.queues.set(rng.sample([chats, emails, vip], rng.randint(1, 3)))
        if rng.random() < 0.5:
            AgentSkill.objects.create(agent=agent, skill=vip_skill, level=rng.randint(1, 10))
        if rng.random() < 0.3:
            AgentChannelLimit.objects.create(agent=agent, channel=chat, max_items=1)
    available = PresenceStatus.objects.get(name="Available")
    Agent.objects.update(status=available)
    print("SETUP=ok")


def prepare_contacts(total: int, seed: int) -> None:
    """``total`` contacts that have written in but are not routed yet, made in bulk.

    Their customers, cases, interactions and first messages are the inbound adapters' work,
    not routing's: made up front, so that the enqueuer's bursts are routing's load only.
    Three in five are web chats, the rest emails; one in four asks for VIP help.
    """
    from contactcenter.crm.models import Case, Customer, Interaction, Message

    rng = random.Random(seed)
    customers = Customer.objects.bulk_create(
        Customer(name=f"Load customer {number}") for number in range(total)
    )
    cases = Case.objects.bulk_create(Case(customer=customer) for customer in customers)
    interactions = Interaction.objects.bulk_create(
        Interaction(case=case, channel="chat" if rng.random() < 0.6 else "email") for case in cases
    )
    bodies = ["Hello", "Where is my order?", "VIP help please", "Refund"]
    Message.objects.bulk_create(
        Message(interaction=interaction, sender="customer", body=rng.choice(bodies))
        for interaction in interactions
    )
    print(f"CONTACTS={len(interactions)}")


def enqueue(first_burst: int, burst: int, pause: float, go_file: Path) -> None:
    """Route every prepared contact in bursts, each arrival its own transaction as an inbound
    channel makes it.

    The first burst (``first_burst`` arrivals) runs alone, and the rounds started during it
    are printed; the rest, in bursts of ``burst``, wait for ``go_file`` (the test starts the
    agents' churn first).
    """
    from django.core.cache import cache
    from django.db import transaction

    from contactcenter.crm.models import Interaction
    from routing.services import queueing
    from routing.services.triggers import ROUNDS_STARTED_KEY

    waiting = list(
        Interaction.objects.filter(work_items__isnull=True)
        .select_related("case__customer")
        .order_by("pk")
    )
    rounds_before = cache.get(ROUNDS_STARTED_KEY, 0)
    started = time.monotonic()
    for interaction in waiting[:first_burst]:
        with transaction.atomic():
            queueing.enqueue(interaction)
    elapsed = time.monotonic() - started
    # Rounds started by the time the burst's last arrival committed, and a moment later.
    rounds = cache.get(ROUNDS_STARTED_KEY, 0) - rounds_before
    time.sleep(1)
    settled = cache.get(ROUNDS_STARTED_KEY, 0) - rounds_before
    print(f"FIRST_BURST={first_burst}", flush=True)
    print(f"FIRST_BURST_SECONDS={elapsed:.2f}", flush=True)
    print(f"FIRST_BURST_ROUNDS={rounds}", flush=True)
    print(f"FIRST_BURST_ROUNDS_SETTLED={settled}", flush=True)
    while not go_file.exists():
        time.sleep(0.05)
    sent = first_burst
    while sent < len(waiting):
        for interaction in waiting[sent : sent + burst]:
            with transaction.atomic():
                queueing.enqueue(interaction)
        sent = min(sent + burst, len(waiting))
        time.sleep(pause)
    print(f"ENQUEUED={len(waiting)}", flush=True)


def churn(stop_file: Path, seed: int, pace: float) -> None:
    """Agents at work until the stop file appears: accept, decline, close, change presence,
    one action every ``pace`` seconds (60 agents acting far faster than people do)."""
    from contactcenter.kernel.errors import DomainError
    from routing.models import Agent, DeclineReason, Disposition, Offer, PresenceStatus, WorkItem
    from routing.services.offers import accept_offer, decline_offer
    from routing.services.presence import set_presence
    from routing.services.work import close_work

    rng = random.Random(seed)
    agents = {agent.pk: agent for agent in Agent.objects.select_related("user")}
    statuses = {status.name: status.pk for status in PresenceStatus.objects.all()}
    weighted = ["Available"] * 6 + [CHAT_ONLY] * 2 + ["Break"]
    reason = DeclineReason.objects.filter(is_active=True).values_list("pk", flat=True).first()
    done = Disposition.objects.filter(is_active=True).values_list("pk", flat=True).first()
    actions = 0
    while not stop_file.exists():
        roll = rng.random()
        try:
            if roll < 0.55:
                offer = Offer.objects.filter(outcome=Offer.Outcome.PENDING).order_by("?").first()
                if offer is not None:
                    agent = agents[offer.agent_id]
                    if rng.random() < 0.85:
                        accept_offer(agent=agent, offer_id=offer.pk)
                    else:
                        decline_offer(agent=agent, offer_id=offer.pk, reason_id=reason)
            elif roll < 0.85:
                item = (
                    WorkItem.objects.filter(status=WorkItem.Status.ASSIGNED)
                    .order_by("?")
                    .values_list("pk", "agent_id")
                    .first()
                )
                if item is not None:
                    close_work(agent=agents[item[1]], work_item_id=item[0], disposition_id=done)
            else:
                agent = agents[rng.choice(list(agents))]
                set_presence(agent=agent, status_id=statuses[rng.choice(weighted)])
        except DomainError:
            # Lost a race with a round, a time-out or another action: as a console would.
            pass
        actions += 1
        time.sleep(pace)
    print(f"CHURN_ACTIONS={actions}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "enqueue", "churn"])
    parser.add_argument("--total", type=int, default=5000)
    parser.add_argument("--first-burst", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--go-file", type=Path)
    parser.add_argument("--pause", type=float, default=0.5)
    parser.add_argument("--stop-file", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pace", type=float, default=0.02)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
    import django

    django.setup()
    if args.command == "setup":
        setup(args.seed)
        prepare_contacts(args.total, args.seed)
    elif args.command == "enqueue":
        enqueue(args.first_burst, args.burst, args.pause, args.go_file)
    else:
        churn(args.stop_file, args.seed, args.pace)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
