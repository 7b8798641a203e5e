from __future__ import annotations

import pytest

from routing.models import AgentStatusChange
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
