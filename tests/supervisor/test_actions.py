from __future__ import annotations

import pytest

from routing.models import AgentStatusChange
from routing.services.rounds import run_round
from tests.factories import make_agent, make_supervisor, make_user, status

pytestmark = pytest.mark.django_db


def test_a_supervisor_sets_an_agents_presence_and_it_is_recorded(client) -> None:
    agent = make_agent(available=True)
    boss = make_supervisor()
    client.force_login(boss)
    url = f"/api/agents/{agent.pk}/presence/"
    response = client.post(url, {"status_id": None}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status_name"] == "Offline"
    change = AgentStatusChange.objects.filter(agent=agent).order_by("-id").first()
    assert (change.cause, change.changed_by) == ("supervisor", boss)
    on_break = client.post(url, {"status_id": status("Break").pk}, content_type="application/json")
    assert on_break.json()["status_name"] == "Break"
    for bad in ({}, {"status_id": "x"}, {"status_id": True}, {"status_id": 0}):
        refused = client.post(url, bad, content_type="application/json")
        assert refused.status_code == 400, bad
        assert refused.json()["field"] == "status_id"
    assert client.post(
        url, {"status_id": 999_999}, content_type="application/json"
    ).status_code in (400, 404)
    assert (
        client.post(
            "/api/agents/999999/presence/", {"status_id": None}, content_type="application/json"
        ).status_code
        == 404
    )
    client.force_login(make_user())
    assert client.post(url, {"status_id": None}, content_type="application/json").status_code == 403


def test_every_supervisor_action_is_recorded_with_who_did_it(client) -> None:
    from supervisor.models import SupervisorAction

    agent = make_agent(available=True)
    boss = make_supervisor()
    client.force_login(boss)
    client.post(
        f"/api/agents/{agent.pk}/presence/", {"status_id": None}, content_type="application/json"
    )
    action = SupervisorAction.objects.get()
    assert (action.kind, action.actor, action.agent) == ("set_presence", boss, agent)
    assert action.detail == {"from": "Available", "to": "Offline"}


def test_a_supervisor_moves_a_waiting_item_up_the_line(client, committed) -> None:
    from routing.models import WorkItem
    from supervisor.models import SupervisorAction
    from tests.factories import start_chat, work_item_of

    with committed():
        first = work_item_of(start_chat("First"))
        second = work_item_of(start_chat("Second"))
    boss = make_supervisor()
    client.force_login(boss)
    url = f"/api/work-items/{second.pk}/priority/"
    response = client.post(url, {"priority": 10}, content_type="application/json")
    assert response.status_code == 200
    waiting = list(
        WorkItem.objects.filter(status="queued").order_by("-priority", "enqueued_at", "id")
    )
    assert waiting == [second, first]
    assert SupervisorAction.objects.get().detail == {"from": 0, "to": 10}
    for bad in ({}, {"priority": "high"}, {"priority": 1000}, {"priority": True}):
        refused = client.post(url, bad, content_type="application/json")
        assert refused.status_code == 400, bad
        assert refused.json()["field"] == "priority"
    assert (
        client.post(
            "/api/work-items/999999/priority/", {"priority": 1}, content_type="application/json"
        ).status_code
        == 404
    )
    client.force_login(make_agent().user)
    assert client.post(url, {"priority": 5}, content_type="application/json").status_code == 403


def test_only_waiting_items_change_priority(client, committed) -> None:
    from tests.factories import start_chat, work_item_of

    agent = make_agent(available=True)
    with committed():
        item = work_item_of(start_chat("Taken"))
    with committed():
        run_round()
    item.refresh_from_db()
    assert item.agent == agent
    client.force_login(make_supervisor())
    response = client.post(
        f"/api/work-items/{item.pk}/priority/", {"priority": 5}, content_type="application/json"
    )
    assert response.status_code == 409
