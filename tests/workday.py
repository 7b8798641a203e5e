"""Contacts worked at chosen moments through the real routing services, for the figures that
reports count: each service is called with its ``now``, so that a test can build a past day."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, time, timedelta
from functools import partial

from django.utils import timezone

from contactcenter.crm.web_chat import start_web_chat
from routing.models import Agent, Offer, WorkItem
from routing.services.departures import customer_left
from routing.services.offers import accept_offer
from routing.services.presence import set_presence
from routing.services.queueing import enqueue
from routing.services.rounds import run_round
from routing.services.work import close_work
from tests.factories import disposition, status

_customers = itertools.count(1)


def sign_in(agent: Agent, at: datetime, status_name: str = "Available") -> None:
    set_presence(agent=agent, status_id=status(status_name).pk, now=at)


def sign_out(agent: Agent, at: datetime) -> None:
    set_presence(agent=agent, status_id=None, now=at)


def _arrive(arrived: datetime, name: str) -> WorkItem:
    number = next(_customers)
    interaction = start_web_chat(name=name, email=f"customer{number}@example.com", verified=True)
    return enqueue(interaction, now=arrived)


def answered_chat(
    arrived: datetime, *, wait: float, handle: float, name: str = "Maria Garcia"
) -> WorkItem:
    """A web chat that waits ``wait`` seconds, is answered by whichever available agent the
    routing round picks, and is closed ``handle`` seconds later (wrap-up comes on top)."""
    item = _arrive(arrived, name)
    answered = arrived + timedelta(seconds=wait)
    offer = Offer.objects.filter(work_item=item, outcome=Offer.Outcome.PENDING).first()
    if offer is None:
        run_round(now=answered)
        offer = Offer.objects.get(work_item=item, outcome=Offer.Outcome.PENDING)
    agent = offer.agent
    accept_offer(agent=agent, offer_id=offer.pk, now=answered)
    return close_work(
        agent=agent,
        work_item_id=item.pk,
        disposition_id=disposition(),
        now=answered + timedelta(seconds=handle),
    )


def abandoned_chat(arrived: datetime, *, after: float, name: str = "Walt Waiting") -> WorkItem:
    """A web chat whose customer leaves ``after`` seconds without an answer."""
    item = _arrive(arrived, name)
    customer_left(interaction_id=item.interaction_id, now=arrived + timedelta(seconds=after))
    item.refresh_from_db()
    return item


def busy_day(day: date, *, usernames: tuple[str, ...], seed: int = 7) -> None:
    """A working day of web chats (08:00-17:00 local) for the demo's agents: they sign in
    at 8, two take a break at noon, and they sign out at 5; the busy hours wait longer."""
    rng = random.Random(seed)
    at = partial(_local, day)
    agents = list(Agent.objects.filter(user__username__in=usernames).order_by("user__username"))
    for agent in agents:
        sign_in(agent, at(8))
    for hour in range(8, 17):
        if hour == 12:
            for agent in agents[:2]:
                sign_in(agent, at(12), "Break")
        if hour == 13:
            for agent in agents[:2]:
                sign_in(agent, at(12, 30))
        busy = hour in (10, 11, 14)
        for _ in range(rng.randint(6, 12) if busy else rng.randint(2, 6)):
            arrived = at(hour, rng.randint(0, 59), rng.randint(0, 59))
            if rng.random() < (0.25 if busy else 0.08):
                abandoned_chat(arrived, after=rng.randint(10, 120))
            else:
                wait = rng.randint(15, 90) if busy else rng.randint(3, 25)
                answered_chat(arrived, wait=wait, handle=rng.randint(120, 900))
    for agent in agents:
        sign_out(agent, at(17))


def _local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))
