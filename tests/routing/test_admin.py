from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from routing.models import Agent, Offer, RoutingConfig, WorkItem
from tests.factories import chat_queue, make_agent, make_user, start_chat, status, work_item_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


def routing_config_form(**overrides) -> dict:
    return {
        "name": "Callbacks",
        "routing_priority": 1,
        "units_per_item": 2,
        "push_timeout_seconds": 20,
        "routing_model": "most_available",
        "aging_boost": 0,
        "preferred_agent_seconds": 0,
        "wrap_up_seconds": 0,
        **overrides,
    }


def test_admin_creates_a_valid_routing_config(admin_client) -> None:
    make_agent(capacity=6)
    response = admin_client.post("/admin/routing/routingconfig/add/", routing_config_form())
    assert response.status_code == 302
    assert RoutingConfig.objects.filter(name="Callbacks").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("push_timeout_seconds", 0, "greater than or equal to 1"),
        ("units_per_item", 7, "more than any agent"),
        ("units_per_item", -1, "greater than or equal to 1"),
        ("routing_priority", 0, "greater than or equal to 1"),
    ],
)
def test_admin_rejects_nonsense_routing_configs(admin_client, field, value, message) -> None:
    make_agent(capacity=6)
    response = admin_client.post(
        "/admin/routing/routingconfig/add/", routing_config_form(**{field: value})
    )
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors[field])
    assert not RoutingConfig.objects.filter(name="Callbacks").exists()


def agent_form(agent: Agent, capacity) -> dict:
    return {
        "user": agent.user_id,
        "capacity": capacity,
        "skills-TOTAL_FORMS": 0,
        "skills-INITIAL_FORMS": 0,
        "Queue_members-TOTAL_FORMS": 0,
        "Queue_members-INITIAL_FORMS": 0,
    }


@pytest.mark.parametrize(
    ("capacity", "message"),
    [(-1, "greater than or equal to 1"), (0, "greater than or equal to 1"), (1, "never take")],
)
def test_admin_rejects_nonsense_agent_capacity(admin_client, capacity, message) -> None:
    agent = make_agent(capacity=6)
    response = admin_client.post(
        f"/admin/routing/agent/{agent.pk}/change/", agent_form(agent, capacity)
    )
    assert response.status_code == 200, response.content[:500]
    assert message in str(response.context["adminform"].form.errors["capacity"])
    agent.refresh_from_db()
    assert agent.capacity == 6


def test_admin_refuses_a_queue_member_too_small_for_its_work(admin_client) -> None:
    small = make_agent(capacity=1, queues=[])
    queue = chat_queue()
    response = admin_client.post(
        f"/admin/routing/queue/{queue.pk}/change/",
        {"name": queue.name, "routing_config": queue.routing_config_id, "members": [small.pk]},
    )
    assert response.status_code == 200
    assert "more than their capacity" in str(response.context["adminform"].form.errors["members"])
    assert not queue.members.filter(pk=small.pk).exists()


@pytest.mark.parametrize(
    "page",
    [
        "/admin/contactcenter/customer/",
        "/admin/contactcenter/case/",
        "/admin/contactcenter/interaction/",
        "/admin/contactcenter/message/",
        "/admin/contactcenter/contactpoint/",
        "/admin/routing/agent/",
        "/admin/routing/queue/",
        "/admin/routing/routingconfig/",
        "/admin/routing/presencestatus/",
        "/admin/routing/servicechannel/",
        "/admin/routing/workitem/",
        "/admin/routing/offer/",
        "/admin/routing/skill/",
        "/admin/routing/intakerule/",
        "/admin/routing/declinereason/",
        "/admin/routing/agentstatuschange/",
    ],
)
def test_every_admin_list_renders(admin_client, page) -> None:
    make_agent()
    assert admin_client.get(page).status_code == 200
    assert admin_client.get(page + "?q=maria").status_code == 200


def test_change_and_add_pages_with_their_inlines_render(admin_client, committed) -> None:
    from routing.models import IntakeRule, ServiceChannel

    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    pages = [
        f"/admin/routing/agent/{agent.pk}/change/",
        f"/admin/routing/servicechannel/{ServiceChannel.objects.get(kind='voice').pk}/change/",
        f"/admin/routing/intakerule/{IntakeRule.objects.get(is_default=True).pk}/change/",
        "/admin/routing/intakerule/add/",
        "/admin/routing/intakerule/test/",
        f"/admin/routing/workitem/{work_item_of(interaction).pk}/change/",
        "/admin/routing/queue/add/",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


def test_work_items_and_offers_are_shown_but_change_only_through_routing(
    admin_client, committed
) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    item = work_item_of(interaction)
    offer = Offer.objects.get(work_item=item)
    page = admin_client.get(f"/admin/routing/workitem/{item.pk}/change/")
    assert page.status_code == 200
    assert b'name="status"' not in page.content
    refused = admin_client.post(
        f"/admin/routing/workitem/{item.pk}/change/", {"status": "closed", "agent": agent.pk}
    )
    assert refused.status_code == 403
    assert (
        admin_client.post(f"/admin/routing/offer/{offer.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    item.refresh_from_db()
    assert item.status == WorkItem.Status.OFFERED
    assert Offer.objects.filter(pk=offer.pk).exists()


def test_admin_sets_agents_offline_through_routing_and_their_offers_return(
    admin_client, committed
) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    form = agent_form(agent, 6)
    form["status"] = status("Available").pk
    with committed():
        admin_client.post(f"/admin/routing/agent/{agent.pk}/change/", form)
    agent.refresh_from_db()
    assert agent.status == status("Available"), "presence is not a form field"

    with committed():
        response = admin_client.post(
            "/admin/routing/agent/",
            {"action": "sign_out", "_selected_action": [agent.pk]},
            follow=True,
        )
    assert "1 agent(s) set offline." in response.content.decode()
    agent.refresh_from_db()
    assert agent.status is None
    assert Offer.objects.get(agent=agent).outcome == Offer.Outcome.CANCELLED
    assert work_item_of(interaction).status == WorkItem.Status.QUEUED


def test_staff_who_may_only_view_agents_cannot_set_them_offline(client) -> None:
    viewer = make_user(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_agent", content_type__app_label="routing")
    )
    client.force_login(viewer)
    agent = make_agent(available=True)
    page = client.get("/admin/routing/agent/")
    assert page.status_code == 200
    assert b"sign_out" not in page.content
    client.post("/admin/routing/agent/", {"action": "sign_out", "_selected_action": [agent.pk]})
    agent.refresh_from_db()
    assert agent.status == status("Available")
