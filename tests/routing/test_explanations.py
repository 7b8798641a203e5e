"""Why an item waits, or why it went to its agent: the service, the API and the dashboard."""

from __future__ import annotations

import pytest
from django.utils import timezone

from routing.explanations import explain_work_item
from routing.models import IntakeRule, IntakeRuleSkill, Offer, WorkItem
from routing.services.offers import decline_offer
from routing.services.presence import set_presence
from supervisor.selectors import dashboard_snapshot
from tests.factories import (
    chat_queue,
    decline_reason,
    make_agent,
    make_queue,
    make_supervisor,
    skill,
    start_chat,
    work_item_of,
)

pytestmark = pytest.mark.django_db


def require_spanish(level: int) -> None:
    rule = IntakeRule.objects.create(name="Spanish", queue=chat_queue(), keywords="hola")
    IntakeRuleSkill.objects.create(rule=rule, skill=skill("Spanish"), min_level=level)


def test_a_waiting_item_counts_the_agents_each_reason_excludes(committed) -> None:
    require_spanish(5)
    make_agent("offline")
    make_agent("elsewhere", available=True, queues=[make_queue("Elsewhere")])
    make_agent("novice", available=True, skills={"Spanish": 2})
    make_agent("another novice", available=True, skills={"Spanish": 4})
    busy = make_agent("busy", capacity=2, available=True, skills={"Spanish": 9})
    refuser = make_agent("refuser", capacity=2, skills={"Spanish": 9})
    with committed():
        start_chat("Keeps busy busy", body="hola")
    assert len(Offer.objects.filter(agent=busy)) == 1
    with committed():
        set_presence(agent=refuser, status_id=busy.status_id)
        chat = start_chat("Waiting", body="hola")
    offer = Offer.objects.get(agent=refuser)
    with committed():
        decline_offer(agent=refuser, offer_id=offer.pk, reason_id=decline_reason().pk)

    explanation = explain_work_item(work_item_of(chat).pk, timezone.now())
    counts = {row["label"]: row["count"] for row in explanation["excluded"]}
    assert counts == {
        "offline": 1,
        "not a member of Web chat": 1,
        "missing Spanish at level 5": 2,
        "declined or missed it already": 1,
        "no free capacity": 1,
    }
    assert explanation["eligible_agents"] == 0
    assert explanation["agents_considered"] == 6
    assert explanation["summary"].startswith("No agent can take it: 1 offline, ")


def test_an_offered_item_says_why_this_agent(committed) -> None:
    make_agent("fuller", capacity=6, available=True)
    roomy = make_agent("roomy", capacity=10, available=True)
    with committed():
        chat = start_chat()
    explanation = explain_work_item(work_item_of(chat).pk, timezone.now())
    assert explanation["status"] == WorkItem.Status.OFFERED
    assert explanation["agent"] == roomy.name
    assert explanation["routing_model"] == "most_available"
    assert "the most available agent (10 free units)" in explanation["summary"]


def test_explanation_api_is_for_supervisors_only(client, committed) -> None:
    make_agent("full", capacity=2, available=True)
    with committed():
        start_chat("First")
        waiting = start_chat("Second")
    item_id = work_item_of(waiting).pk
    url = f"/api/work-items/{item_id}/explanation/"

    assert client.get(url).status_code == 403  # anonymous: not authenticated
    agent = make_agent("nosy")
    client.force_login(agent.user)
    assert client.get(url).status_code == 403

    client.force_login(make_supervisor())
    response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["work_item_id"] == item_id
    counts = {row["reason"]: row["count"] for row in body["excluded"]}
    assert counts == {"offline": 1, "no_free_capacity": 1}  # "nosy" is offline
    missing = client.get("/api/work-items/999999/explanation/")
    assert missing.status_code == 404
    assert missing.json()["field"] == "work_item_id"


def test_the_supervisor_snapshot_lists_waiting_work_with_why(committed) -> None:
    require_spanish(5)
    make_agent("novice", available=True, skills={"Spanish": 3})
    with committed():
        start_chat("Ana", body="hola")
    rows = dashboard_snapshot(timezone.now())["waiting"]
    assert len(rows) == 1
    assert rows[0]["customer_name"] == "Ana"
    assert rows[0]["skills"] == ["Spanish ≥ 5"]
    assert rows[0]["why"] == "No agent can take it: 1 missing Spanish at level 5."


def test_explanation_of_an_id_beyond_any_row_is_not_found(client) -> None:
    client.force_login(make_supervisor())
    response = client.get(f"/api/work-items/{2**70}/explanation/")
    assert response.status_code == 404
    assert response.json()["field"] == "work_item_id"
