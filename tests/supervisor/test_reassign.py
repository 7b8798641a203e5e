from __future__ import annotations

import pytest

from routing.models import Offer, WorkItem, WorkItemMove
from routing.services.offers import accept_offer, decline_offer
from routing.services.presence import set_presence
from supervisor.models import SupervisorAction
from tests.factories import (
    chat_queue,
    decline_reason,
    make_agent,
    make_queue,
    make_supervisor,
    start_chat,
    work_item_of,
)

pytestmark = pytest.mark.django_db


def reassign(client, item_id: int, body: dict):
    return client.post(
        f"/api/work-items/{item_id}/reassign/", body, content_type="application/json"
    )


def test_a_waiting_item_moves_to_another_queue_keeping_its_place_by_age(client, committed) -> None:
    billing = make_queue("Billing")
    with committed():
        item = work_item_of(start_chat("Waiting"))
    boss = make_supervisor()
    client.force_login(boss)
    with committed():
        response = reassign(client, item.pk, {"queue_id": billing.pk})
    assert response.status_code == 200, response.json()
    moved = WorkItem.objects.get(pk=item.pk)
    assert (moved.queue, moved.status, moved.enqueued_at) == (billing, "queued", item.enqueued_at)
    move = WorkItemMove.objects.get(work_item=item)
    assert (move.from_queue, move.to_queue, move.cause) == (chat_queue(), billing, "supervisor")
    action = SupervisorAction.objects.get()
    assert (action.kind, action.actor, action.work_item_id) == ("reassign", boss, item.pk)
    assert action.detail["from_queue"] == "Web chat"
    assert action.detail["to_queue"] == "Billing"


def test_an_item_offered_to_one_agent_goes_to_the_agent_the_supervisor_names(
    client, committed
) -> None:
    ada = make_agent("ada", available=True, capacity=2)
    with committed():
        item = work_item_of(start_chat("Offered"))
    first = Offer.objects.get(work_item=item)
    assert first.agent == ada
    bob = make_agent("bob", available=True)
    client.force_login(make_supervisor())
    with committed():
        response = reassign(client, item.pk, {"agent_id": bob.pk})
    assert response.status_code == 200, response.json()
    first.refresh_from_db()
    # Withdrawn, not held against Ada.
    assert first.outcome == Offer.Outcome.CANCELLED
    pending = Offer.objects.get(work_item=item, outcome=Offer.Outcome.PENDING)
    assert pending.agent == bob
    assert WorkItem.objects.get(pk=item.pk).preferred_agent == bob


def test_work_an_agent_holds_is_transferred_for_them(client, committed) -> None:
    ada = make_agent("ada", available=True, capacity=2)
    with committed():
        item = work_item_of(start_chat("Held"))
    with committed():
        accept_offer(agent=ada, offer_id=Offer.objects.get(work_item=item).pk)
    bob = make_agent("bob", available=True)
    boss = make_supervisor()
    client.force_login(boss)
    with committed():
        response = reassign(client, item.pk, {"agent_id": bob.pk})
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert item.status == WorkItem.Status.TRANSFERRED
    successor = WorkItem.objects.get(pk=response.json()["work_item_id"])
    assert successor.transferred_from == item
    assert Offer.objects.get(work_item=successor, outcome=Offer.Outcome.PENDING).agent == bob
    action = SupervisorAction.objects.get()
    assert action.detail["from_agent"] == "ada"
    assert action.detail["to_agent"] == "bob"
    assert action.detail["transferred_from"] == item.pk
    with committed():
        accept_offer(agent=bob, offer_id=Offer.objects.get(work_item=successor, agent=bob).pk)
    same = reassign(client, successor.pk, {"agent_id": bob.pk})
    assert (same.status_code, same.json()["field"]) == (400, "agent_id")


def test_reassigning_refuses_what_cannot_work_with_the_field_at_fault(client, committed) -> None:
    other = make_queue("Other")
    outsider = make_agent("outsider", available=True, queues=[other])
    offline = make_agent("offline")
    decliner = make_agent("decliner", available=True)
    with committed():
        item = work_item_of(start_chat("Waiting"))
    with committed():
        offer = Offer.objects.get(work_item=item, agent=decliner)
        decline_offer(agent=decliner, offer_id=offer.pk, reason_id=decline_reason().pk)
    client.force_login(make_supervisor())
    cases = [
        ({}, 400, "queue_id"),
        ({"queue_id": "x"}, 400, "queue_id"),
        ({"queue_id": True}, 400, "queue_id"),
        ({"agent_id": -1}, 400, "agent_id"),
        ({"queue_id": 999_999}, 404, "queue_id"),
        ({"agent_id": 999_999}, 404, "agent_id"),
        ({"agent_id": outsider.pk}, 400, "agent_id"),
        ({"agent_id": offline.pk}, 409, "agent_id"),
        ({"agent_id": decliner.pk}, 409, "agent_id"),
        ({"queue_id": other.pk, "agent_id": offline.pk}, 400, "agent_id"),
        ({"note": 5, "queue_id": other.pk}, 400, "note"),
    ]
    for body, status, field in cases:
        response = reassign(client, item.pk, body)
        assert (response.status_code, response.json().get("field")) == (status, field), body
    assert reassign(client, 999_999, {"queue_id": other.pk}).status_code == 404
    refused = client.post(
        f"/api/work-items/{item.pk}/reassign/", "[1]", content_type="application/json"
    )
    assert refused.status_code == 400
    # Nothing moved on any refusal.
    assert WorkItem.objects.get(pk=item.pk).queue == chat_queue()
    assert not SupervisorAction.objects.exists()
    WorkItem.objects.filter(pk=item.pk).update(status=WorkItem.Status.ABANDONED)
    closed = reassign(client, item.pk, {"queue_id": other.pk})
    assert (closed.status_code, closed.json()["field"]) == (409, "work_item_id")


def test_only_supervisors_reassign(client, committed) -> None:
    other = make_queue("Other")
    with committed():
        item = work_item_of(start_chat("Waiting"))
    assert reassign(client, item.pk, {"queue_id": other.pk}).status_code in (401, 403)
    client.force_login(make_agent(available=True).user)
    assert reassign(client, item.pk, {"queue_id": other.pk}).status_code == 403
    assert client.get("/supervisor/").status_code == 403
    assert WorkItem.objects.get(pk=item.pk).queue == chat_queue()


def test_a_note_goes_with_the_item_and_a_queue_alone_releases_a_hold(client, committed) -> None:
    from contactcenter.crm.models import Message

    billing = make_queue("Billing")
    ada = make_agent("ada", available=True, capacity=1)
    make_agent("busy", capacity=1)
    with committed():
        start_chat("Keeps ada busy")
        item = work_item_of(start_chat("Waiting"))
    client.force_login(make_supervisor())
    with committed():
        held = reassign(client, item.pk, {"agent_id": ada.pk, "note": "VIP, be quick"})
    assert held.status_code == 200, held.json()
    assert WorkItem.objects.get(pk=item.pk).preferred_agent == ada
    note = Message.objects.get(interaction=item.interaction, internal=True)
    assert note.body.endswith("Note: VIP, be quick")
    billing.members.add(ada)
    with committed():
        moved = reassign(client, item.pk, {"queue_id": billing.pk})
    assert moved.status_code == 200, moved.json()
    item.refresh_from_db()
    assert (item.queue, item.preferred_agent, item.preferred_until) == (billing, None, None)
    actions = list(SupervisorAction.objects.order_by("id").values_list("detail", flat=True))
    assert [(a["to_agent"], a["note"]) for a in actions] == [("ada", "VIP, be quick"), (None, "")]
    too_long = reassign(client, item.pk, {"queue_id": billing.pk, "note": "x" * 1001})
    assert (too_long.status_code, too_long.json()["field"]) == (400, "note")


def test_held_work_is_not_handed_to_an_agent_who_cannot_take_it(client, committed) -> None:
    from tests.factories import status

    ada = make_agent("ada", available=True, capacity=2)
    with committed():
        item = work_item_of(start_chat("Held"))
    with committed():
        accept_offer(agent=ada, offer_id=Offer.objects.get(work_item=item).pk)
    resting = make_agent("resting")
    set_presence(agent=resting, status_id=status("Break").pk)
    client.force_login(make_supervisor())
    refused = reassign(client, item.pk, {"agent_id": resting.pk})
    assert (refused.status_code, refused.json()["field"]) == (409, "agent_id")
    item.refresh_from_db()
    assert (item.status, item.agent) == (WorkItem.Status.ASSIGNED, ada)
