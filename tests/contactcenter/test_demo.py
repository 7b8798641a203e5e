from __future__ import annotations

import random

import pytest

from contactcenter.crm.models import Case, Customer, Interaction
from contactcenter.demo.seed import HUMAN_AGENTS, seed_demo
from contactcenter.demo.traffic import demo_tick, make_simulated_agents_available
from routing.models import Agent, Offer, WorkItem

pytestmark = pytest.mark.django_db


def test_seed_creates_the_demo_cast_once() -> None:
    assert seed_demo(history=True) is True
    assert seed_demo(history=True) is False
    assert Agent.objects.count() == 12
    assert Customer.objects.count() == 20
    assert Case.objects.filter(status="closed").count() >= 20
    assert Agent.objects.get(user__username="agent01").user.check_password("agent-demo")


def test_demo_traffic_keeps_customers_chatting_with_simulated_agents_only(committed) -> None:
    seed_demo(history=False)
    with committed():
        make_simulated_agents_available()
    rng = random.Random(3)
    for _ in range(12):
        with committed():
            demo_tick(rng, think_seconds=0)
    assert WorkItem.objects.filter(status="assigned").exists()
    assert Offer.objects.filter(outcome="accepted").count() >= 3
    humans = Agent.objects.filter(user__username__in=HUMAN_AGENTS)
    assert not WorkItem.objects.filter(agent__in=humans).exists()
    assert all(agent.status is None for agent in humans)
    open_chats = Interaction.objects.filter(status="open")
    customers = [interaction.case.customer_id for interaction in open_chats]
    assert len(customers) == len(set(customers)), "a demo customer chats twice at once"
