from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from routing.models import Offer, WorkItem
from routing.services.offers import accept_offer
from routing.services.presence import set_presence
from supervisor.selectors import dashboard_snapshot
from tests.factories import make_agent, make_queue, start_chat

pytestmark = pytest.mark.django_db


def test_snapshot_counts_waiting_work_and_each_agents_load(committed) -> None:
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True)
    make_agent("bob", first_name="Bob")
    make_queue("Empty")
    with committed():
        start_chat("First")
        start_chat("Second")
        start_chat("Third")
    with committed():
        offer = Offer.objects.filter(agent=ada).order_by("pk").first()
        accept_offer(agent=ada, offer_id=offer.pk)
    now = timezone.now() + timedelta(seconds=30)
    snapshot = dashboard_snapshot(now)

    queues = {row["name"]: row for row in snapshot["queues"]}
    assert queues["Web chat"]["waiting"] == 1
    assert 29 <= queues["Web chat"]["longest_wait_seconds"] <= 31
    # Three chats entered today and one was answered at once; the other two (one waiting, one
    # offered but not accepted) are 30 s old, past the 20 s service-level time: today's service
    # level is 1 answered in time out of 3, below the 80 % goal.
    chat = queues["Web chat"]
    assert (chat["offered_today"], chat["handled_today"], chat["abandoned_today"]) == (3, 1, 0)
    assert chat["service_level_today"] == round(1 / 3, 4)
    assert chat["below_goal"] is True
    assert queues["Empty"] == {
        **queues["Empty"],
        "waiting": 0,
        "longest_wait_seconds": 0,
        "average_wait_seconds": 0,
        "offered_today": 0,
        "service_level_today": None,
        "below_goal": False,
    }
    agents = {row["name"]: row for row in snapshot["agents"]}
    assert agents["Ada"]["status_name"] == "Available"
    assert agents["Ada"]["used_units"] == 4
    assert sorted(item["state"] for item in agents["Ada"]["items"]) == ["assigned", "offered"]
    assert agents["Bob"] == {
        **agents["Bob"],
        "status_name": "Offline",
        "used_units": 0,
        "items": [],
    }


def test_snapshot_costs_the_same_queries_however_much_work_there_is(
    committed, django_assert_num_queries
) -> None:
    for n in range(3):
        make_agent(f"agent{n}", capacity=2, available=True)
    with committed():
        for n in range(4):
            start_chat(f"Early {n}")
    assert WorkItem.objects.filter(status=WorkItem.Status.QUEUED).exists()
    # Today's totals read the moved items' ids first, then the work items by those ids.
    with django_assert_num_queries(33) as small:
        dashboard_snapshot(timezone.now())
    for n in range(3, 12):
        make_agent(f"agent{n}", available=True, skills={"Spanish": 4})
    with committed():
        for n in range(40):
            start_chat(f"Customer {n}")
    assert WorkItem.objects.filter(status=WorkItem.Status.QUEUED).count() > 1
    with django_assert_num_queries(len(small.captured_queries)):
        dashboard_snapshot(timezone.now())


def test_the_skills_backlog_counts_waiting_work_and_agents_who_could_take_it(committed) -> None:
    from routing.models import Skill, WorkItemSkill
    from supervisor.selectors import skills_backlog

    make_agent("ines", available=True, capacity=1, skills={"Spanish": 6})
    make_agent("off", available=False, skills={"Spanish": 9, "Billing": 5})
    with committed():
        chats = [start_chat(f"Cliente {n}") for n in range(4)]
    spanish, billing = Skill.objects.get(name="Spanish"), Skill.objects.get(name="Billing")
    items = list(WorkItem.objects.filter(interaction__in=chats, status="queued"))
    for item in items:
        WorkItemSkill.objects.create(work_item=item, skill=spanish, min_level=5)
    WorkItemSkill.objects.create(work_item=items[0], skill=billing, min_level=3)
    waiting_spanish = len(items)
    assert skills_backlog() == [
        {"skill": "Spanish", "waiting": waiting_spanish, "available_agents": 1},
        {"skill": "Billing", "waiting": 1, "available_agents": 0},
    ]


def test_alerts_name_long_waits_queues_below_goal_and_long_breaks(committed) -> None:
    from routing.models import PresenceStatus, Queue

    queue = Queue.objects.get(name="Web chat")
    Queue.objects.filter(pk=queue.pk).update(alert_wait_seconds=25)
    PresenceStatus.objects.filter(name="Break").update(alert_after_seconds=60)
    grace = make_agent("grace", first_name="Grace")
    set_presence(
        agent=grace,
        status_id=PresenceStatus.objects.get(name="Break").pk,
        now=timezone.now() - timedelta(seconds=90),
    )
    with committed():
        start_chat("Waiting long")
    now = timezone.now() + timedelta(seconds=30)
    alerts = {alert["id"]: alert for alert in dashboard_snapshot(now)["alerts"]}
    grace.refresh_from_db()
    assert alerts == {
        f"wait:{queue.pk}": {
            "id": f"wait:{queue.pk}",
            "kind": "long_wait",
            "text": "1 contact waiting over 0:25 in Web chat.",
        },
        # Nothing answered and one contact 30 s past the 20 s time: 0 % against 80 %.
        f"sl:{queue.pk}": {
            "id": f"sl:{queue.pk}",
            "kind": "service_level",
            "text": "Web chat is below its service-level goal: 0% answered within 20 s today, "
            "goal 80%.",
        },
        f"status:{grace.pk}:{grace.status_since.isoformat()}": {
            "id": f"status:{grace.pk}:{grace.status_since.isoformat()}",
            "kind": "status_time",
            "text": "Grace has been in Break for over 1:00.",
        },
    }
    # Before the limits pass, nothing.
    assert dashboard_snapshot(timezone.now() - timedelta(seconds=200))["alerts"] == []
