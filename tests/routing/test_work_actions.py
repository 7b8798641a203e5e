"""What an agent does with work they hold: close with a disposition and wrap-up, transfer to a
queue, a colleague or a skill with a note, and internal notes the customer never sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.crm import selectors as crm_selectors
from contactcenter.crm.models import Message
from contactcenter.kernel.errors import InvalidInput, NotFound
from routing.models import Queue, RoutingConfig, Skill, WorkItem
from routing.services.departures import customer_left
from routing.services.offers import accept_offer, decline_offer
from routing.services.rounds import run_round
from routing.services.transfers import transfer_work
from routing.services.work import (
    add_internal_note,
    announce_wrap_ups_ended,
    close_work,
    send_agent_message,
)
from tests.factories import (
    chat_queue,
    decline_reason,
    disposition,
    make_agent,
    start_chat,
    work_item_of,
)

pytestmark = pytest.mark.django_db


def taken_by(agent, committed, name: str = "Maria") -> WorkItem:
    with committed():
        chat = start_chat(name)
    with committed():
        run_round()
    item = work_item_of(chat)
    with committed():
        accept_offer(agent=agent, offer_id=item.offers.get().pk)
    item.refresh_from_db()
    assert item.agent == agent
    return item


def test_closing_needs_one_of_the_configured_dispositions(committed) -> None:
    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    with pytest.raises(InvalidInput) as missing:
        close_work(agent=ada, work_item_id=item.pk)
    assert missing.value.field == "disposition_id"
    with pytest.raises(InvalidInput):
        close_work(agent=ada, work_item_id=item.pk, disposition_id=999_999)
    with committed():
        close_work(agent=ada, work_item_id=item.pk, disposition_id=disposition("Follow-up needed"))
    item.refresh_from_db()
    assert (item.status, item.disposition.name) == ("closed", "Follow-up needed")


def test_the_end_of_wrap_up_is_announced_to_the_agent(committed) -> None:
    RoutingConfig.objects.filter(name="Web chat").update(wrap_up_seconds=30)
    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    closed_at = timezone.now()
    with committed():
        close_work(agent=ada, work_item_id=item.pk, disposition_id=disposition(), now=closed_at)
    assert announce_wrap_ups_ended(now=closed_at + timedelta(seconds=10)) == 0
    assert announce_wrap_ups_ended(now=closed_at + timedelta(seconds=31)) == 1


def test_a_transfer_to_a_queue_lets_the_agent_who_declined_take_it(committed) -> None:
    billing = Queue.objects.create(
        name="Billing desk", routing_config=RoutingConfig.objects.get(name="Web chat")
    )
    bob = make_agent(
        "bob", first_name="Bob", capacity=4, available=True, queues=[chat_queue(), billing]
    )
    with committed():
        chat = start_chat("Maria")
    first = work_item_of(chat)
    with committed():
        run_round()
    with committed():
        decline_offer(agent=bob, offer_id=first.offers.get().pk, reason_id=decline_reason().pk)
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True)
    with committed():
        run_round()
    first.refresh_from_db()
    with committed():
        accept_offer(agent=ada, offer_id=first.offers.get(agent=ada).pk)

    with committed():
        successor = transfer_work(
            agent=ada, work_item_id=first.pk, queue_id=billing.pk, note="Wants a refund"
        )
    first.refresh_from_db()
    assert first.status == WorkItem.Status.TRANSFERRED
    assert (successor.queue, successor.transferred_from) == (billing, first)
    with committed():
        run_round()
    successor.refresh_from_db()
    assert (successor.status, successor.agent) == (WorkItem.Status.OFFERED, bob)
    notes = Message.objects.filter(interaction=chat, internal=True)
    assert [note.body for note in notes] == ["Transferred to Billing desk. Note: Wants a refund"]
    seen_by_customer = [m.body for m in crm_selectors.customer_transcript(chat.pk)]
    assert "Transferred to Billing desk. Note: Wants a refund" not in seen_by_customer
    assert "You are being transferred; please hold on." in seen_by_customer


def test_a_transfer_to_a_colleague_or_a_skill(committed) -> None:
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True)
    cleo = make_agent("cleo", first_name="Cleo", capacity=4, available=True)
    make_agent("dan", first_name="Dan", capacity=4, available=True, skills={"Spanish": 5})
    item = taken_by(ada, committed)
    with committed():
        to_cleo = transfer_work(agent=ada, work_item_id=item.pk, to_agent_id=cleo.pk)
    assert to_cleo.preferred_agent == cleo
    with committed():
        run_round()
    to_cleo.refresh_from_db()
    assert to_cleo.agent == cleo
    with committed():
        accept_offer(agent=cleo, offer_id=to_cleo.offers.get(agent=cleo).pk)
    spanish = Skill.objects.get(name="Spanish")
    with committed():
        to_skill = transfer_work(agent=cleo, work_item_id=to_cleo.pk, skill_id=spanish.pk)
    with committed():
        run_round()
    to_skill.refresh_from_db()
    assert to_skill.agent.user.username == "dan"


def test_transfers_name_a_real_target(committed) -> None:
    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    for fields, field in (
        ({}, "queue_id"),
        ({"queue_id": 999_999}, "queue_id"),
        ({"to_agent_id": 999_999}, "agent_id"),
        ({"to_agent_id": ada.pk}, "agent_id"),
        ({"skill_id": 999_999}, "skill_id"),
    ):
        with pytest.raises((InvalidInput, NotFound)) as refused:
            transfer_work(agent=ada, work_item_id=item.pk, **fields)
        assert refused.value.field == field
    item.refresh_from_db()
    assert item.status == WorkItem.Status.ASSIGNED


def test_internal_notes_reach_the_agent_but_never_the_customer(committed) -> None:
    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    note = add_internal_note(agent=ada, work_item_id=item.pk, body="VIP, be nice")
    assert note.internal and note.delivery == ""
    assert note not in crm_selectors.customer_transcript(item.interaction_id)
    with pytest.raises(InvalidInput):
        add_internal_note(agent=ada, work_item_id=item.pk, body="  ")


def test_a_status_with_auto_accept_takes_offers_at_once(committed) -> None:
    from routing.models import PresenceStatus

    PresenceStatus.objects.filter(name="Available").update(auto_accept=True)
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True)
    with committed():
        chat = start_chat("Maria")
    with committed():
        run_round()
    item = work_item_of(chat)
    assert (item.status, item.agent) == (WorkItem.Status.ASSIGNED, ada)
    assert item.offers.get().outcome == "accepted"


def test_files_go_out_on_email_only(committed) -> None:
    from contactcenter.crm.files import InboundAttachment

    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    with pytest.raises(InvalidInput) as refused:
        send_agent_message(
            agent=ada,
            work_item_id=item.pk,
            body="See attached",
            files=(InboundAttachment("a.txt", "text/plain", b"x"),),
        )
    assert refused.value.field == "files"


def test_a_transfer_never_comes_back_to_who_sent_it(committed) -> None:
    from routing.models import Offer

    ada = make_agent("ada", first_name="Ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    outsider = make_agent("olga", first_name="Olga", capacity=4, available=True, queues=[])
    with pytest.raises(InvalidInput) as refused:
        transfer_work(agent=ada, work_item_id=item.pk, to_agent_id=outsider.pk)
    assert refused.value.field == "agent_id"
    with committed():
        successor = transfer_work(agent=ada, work_item_id=item.pk, queue_id=item.queue_id)
    with committed():
        run_round()
    successor.refresh_from_db()
    assert successor.status == WorkItem.Status.QUEUED
    assert successor.offers.get().outcome == Offer.Outcome.TRANSFERRED


def test_files_on_a_chat_reply_are_refused_before_they_are_read(client, committed) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    client.force_login(ada.user)
    response = client.post(
        f"/api/work-items/{item.pk}/replies/",
        {"body": "See attached", "files": SimpleUploadedFile("a.txt", b"x", "text/plain")},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "files"


def test_a_chat_the_customer_left_cannot_be_transferred(committed) -> None:
    from contactcenter.kernel.errors import Conflict

    ada = make_agent("ada", capacity=4, available=True)
    item = taken_by(ada, committed)
    with committed():
        customer_left(interaction_id=item.interaction_id)
    with pytest.raises(Conflict):
        transfer_work(agent=ada, work_item_id=item.pk, queue_id=item.queue_id)
    with committed():
        close_work(agent=ada, work_item_id=item.pk, disposition_id=disposition())
