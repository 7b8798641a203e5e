from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from contactcenter.crm import merging
from contactcenter.crm.models import Customer, CustomerMerge, Interaction, Message, Order
from contactcenter.crm.web_chat import start_web_chat
from contactcenter.kernel.errors import InvalidInput, NotFound
from routing.services import conversations
from routing.services.conversations import post_customer_message
from tests.factories import make_agent, make_user, text_message

pytestmark = pytest.mark.django_db


def text_from(number: str, body: str, sid: str) -> Message:
    return conversations.receive(text_message(body, sid=f"{sid}", sender=number)).message


def two_records_of_one_person() -> tuple[Customer, Customer]:
    chat = start_web_chat(name="Ana Lima", email="ana@example.com", verified=True)
    post_customer_message(interaction_id=chat.pk, body="Hello from chat")
    texted = text_from("+14155550100", "Hello from my phone", "SM1")
    survivor = chat.case.customer
    other = texted.interaction.case.customer
    other.tier, other.notes = "gold", "Prefers SMS"
    other.save()
    return survivor, other


def test_merging_moves_every_contact_point_case_and_message_and_records_it() -> None:
    survivor, other = two_records_of_one_person()
    Order.objects.create(
        number="A-1", customer=other, placed_at=timezone.now(), total=Decimal("5.00")
    )
    merger = make_user("admin-merger")
    record = merging.merge_customers(survivor_id=survivor.pk, merged_id=other.pk, by=merger)
    assert not Customer.objects.filter(pk=other.pk).exists()
    assert set(survivor.contact_points.values_list("value", flat=True)) == {
        "ana@example.com",
        "+14155550100",
    }
    assert Interaction.objects.filter(case__customer=survivor).count() == 2
    assert Message.objects.filter(interaction__case__customer=survivor).count() == 2
    survivor.refresh_from_db()
    assert survivor.tier == "gold"
    assert "Prefers SMS" in survivor.notes
    assert record == CustomerMerge.objects.get()
    assert (record.merged_customer_id, record.merged_name, record.merged_by) == (
        other.pk,
        "+14155550100",
        merger,
    )
    assert record.moved["contact_points"] == [{"kind": "phone", "value": "+14155550100"}]
    assert record.moved["orders"] == ["A-1"]
    assert Order.objects.get().customer == survivor
    # The phone now reaches the survivor.
    assert text_from("+1 415 555 0100", "Me again", "SM2").interaction.case.customer == survivor


def test_merging_a_customer_into_itself_or_a_missing_one_is_refused() -> None:
    survivor, _ = two_records_of_one_person()
    with pytest.raises(InvalidInput):
        merging.merge_customers(survivor_id=survivor.pk, merged_id=survivor.pk)
    with pytest.raises(NotFound):
        merging.merge_customers(survivor_id=survivor.pk, merged_id=999_999)
    assert not CustomerMerge.objects.exists()


def test_the_admin_action_merges_the_selected_customers_into_the_oldest(admin_client) -> None:
    survivor, other = two_records_of_one_person()
    response = admin_client.post(
        "/admin/contactcenter/customer/",
        {"action": "merge_into_oldest", "_selected_action": [survivor.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert list(Customer.objects.all()) == [survivor]
    assert CustomerMerge.objects.get().merged_by.username == "admin"


def test_the_merge_api_needs_the_change_permission_and_checks_its_input(client) -> None:
    survivor, other = two_records_of_one_person()
    user = make_user("crm-admin")
    client.force_login(user)
    url = f"/api/customers/{survivor.pk}/merge/"
    assert client.post(url, {"merge": other.pk}, content_type="application/json").status_code == 403
    user.user_permissions.add(
        Permission.objects.get(codename="change_customer", content_type__app_label="contactcenter")
    )
    for bad in ({}, {"merge": "x"}, {"merge": True}):
        response = client.post(url, bad, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["field"] == "merge"
    missing = client.post(url, {"merge": 10**12}, content_type="application/json")
    assert missing.status_code == 404
    response = client.post(url, {"merge": other.pk}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["survivor_id"] == survivor.pk
    assert Customer.objects.count() == 1


def test_the_timeline_shows_every_channel_newest_first_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
) -> None:
    survivor, other = two_records_of_one_person()
    merging.merge_customers(survivor_id=survivor.pk, merged_id=other.pk)
    agent = make_agent()
    client.force_login(agent.user)
    # Session, user, its two permission reads and the agent check, then the seven reads.
    with django_assert_num_queries(12):
        response = client.get(f"/api/customers/{survivor.pk}/timeline/")
    timeline = response.json()
    assert [entry["channel"] for entry in timeline["interactions"]] == ["sms", "chat"]
    assert timeline["interactions"][0]["messages"][0]["body"] == "Hello from my phone"
    for n in range(5):
        text_from("+14155550100", f"More {n}", f"SMx{n}")
        Interaction.objects.filter(case__customer=survivor).update(status="closed")
    with django_assert_num_queries(12):
        client.get(f"/api/customers/{survivor.pk}/timeline/")


def test_the_timeline_is_for_staff_and_agents_only(client) -> None:
    survivor, _ = two_records_of_one_person()
    client.force_login(make_user())
    assert client.get(f"/api/customers/{survivor.pk}/timeline/").status_code == 403
    client.force_login(make_agent().user)
    assert client.get("/api/customers/999999/timeline/").status_code == 404


def test_agents_edit_a_customers_profile_and_bad_edits_are_refused(client) -> None:
    survivor, _ = two_records_of_one_person()
    client.force_login(make_agent().user)
    url = f"/api/customers/{survivor.pk}/"
    response = client.patch(
        url, {"tier": "gold", "notes": "Prefers email"}, content_type="application/json"
    )
    assert response.status_code == 200
    survivor.refresh_from_db()
    assert (survivor.tier, survivor.notes) == ("gold", "Prefers email")
    for bad, field in (
        ({"name": ""}, "name"),
        ({"tier": 5}, "tier"),
        ({"language": "x" * 17}, "language"),
        ({"is_vip": "yes"}, "is_vip"),
        ({"notes": "nul \x00"}, "notes"),
    ):
        refused = client.patch(url, bad, content_type="application/json")
        assert refused.status_code == 400, bad
        assert refused.json()["field"] == field
    assert (
        client.patch(
            "/api/customers/999999/", {"tier": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    client.force_login(make_user())
    assert client.patch(url, {"tier": "x"}, content_type="application/json").status_code == 403


def test_staff_who_may_only_view_customers_cannot_edit_them(client) -> None:
    survivor, _ = two_records_of_one_person()
    viewer = make_user("viewer")
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_customer", content_type__app_label="contactcenter")
    )
    client.force_login(viewer)
    assert client.get(f"/api/customers/{survivor.pk}/timeline/").status_code == 200
    response = client.patch(
        f"/api/customers/{survivor.pk}/", {"tier": "gold"}, content_type="application/json"
    )
    assert response.status_code == 403
