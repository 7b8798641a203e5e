from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_agent, make_supervisor, make_user

pytestmark = pytest.mark.django_db


def test_chat_page_is_public(client) -> None:
    response = client.get("/chat/")
    assert response.status_code == 200
    assert b"channels_app/chat.js" in response.content


@pytest.mark.parametrize("page", ["/console/", "/supervisor/", "/"])
def test_pages_for_staff_send_anonymous_visitors_to_log_in(client, page) -> None:
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_console_is_for_agents_only(client) -> None:
    client.force_login(make_user())
    assert client.get("/console/").status_code == 403
    client.force_login(make_agent().user)
    response = client.get("/console/")
    assert response.status_code == 200
    assert b"channels_app/console.js" in response.content


def test_supervisor_view_is_for_supervisors_only(client) -> None:
    client.force_login(make_agent().user)
    assert client.get("/supervisor/").status_code == 403
    client.force_login(make_supervisor())
    response = client.get("/supervisor/")
    assert response.status_code == 200
    assert b"supervisor/dashboard.js" in response.content


def test_login_sends_each_role_to_its_page(client) -> None:
    agent = make_agent("ada")
    response = client.post(
        "/accounts/login/", {"username": "ada", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/console/"
    client.logout()
    make_supervisor("sam")
    response = client.post(
        "/accounts/login/", {"username": "sam", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/supervisor/"
    assert agent.user.is_authenticated


def test_pages_carry_no_inline_script(client) -> None:
    client.force_login(make_agent().user)
    for page in ["/chat/", "/console/", "/accounts/login/"]:
        html = client.get(page).content.decode()
        for chunk in html.split("<script")[1:]:
            assert 'src="' in chunk.split(">")[0], f"inline script on {page}"
        assert "onclick=" not in html


def test_health_endpoint(client) -> None:
    assert client.get("/healthz/").json() == {"status": "ok"}


def test_api_schema_is_served(client) -> None:
    client.force_login(make_user())
    assert client.get("/api/schema/").status_code == 200
