from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from contactcenter.crm.models import Message
from routing.models import WorkItem
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration_token() -> str:
    user = make_user("shop-integration")
    user.user_permissions.add(
        Permission.objects.get(codename="add_interaction", content_type__app_label="contactcenter")
    )
    return Token.objects.create(user=user).key


def payload(**fields) -> dict:
    return {
        "channel": "social",
        "from": {"kind": "platform", "platform": "telegram", "value": "99887766"},
        "name": "Ana",
        "body": "Do you ship to Lisbon?",
        "message_id": "tg-1",
        **fields,
    }


def post(client, data, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return client.post("/api/interactions/", data, content_type="application/json", **headers)


def test_a_message_from_any_channel_is_stored_and_queued(client, integration_token) -> None:
    response = post(client, payload(), integration_token)
    assert response.status_code == 201
    body = response.json()
    message = Message.objects.get(pk=body["message_id"])
    assert message.interaction.contact_point.value == "telegram:99887766"
    assert body["work_item_id"] == WorkItem.objects.get().pk
    assert body["duplicate"] is False
    again = post(client, payload(), integration_token)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert Message.objects.count() == 1


def test_the_api_needs_a_token_with_the_permission(client) -> None:
    assert post(client, payload(), None).status_code in (401, 403)
    no_permission = Token.objects.create(user=make_user()).key
    assert post(client, payload(), no_permission).status_code == 403
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (["not", "an", "object"], "body"),
        (payload(channel="fax"), "channel"),
        (payload(channel=None), "channel"),
        (payload(body=""), "body"),
        (payload(body=12), "body"),
        (payload(message_id=""), "message_id"),
        (payload(**{"from": "ana"}), "from"),
        (payload(**{"from": {"kind": "pigeon", "value": "x"}}), "from.kind"),
        (payload(**{"from": {"kind": "phone", "value": "nope"}}), "from"),
        (payload(**{"from": {"kind": "platform", "platform": "Bad!", "value": "1"}}), "platform"),
        (payload(in_reply_to="tg-0"), "in_reply_to"),
    ],
)
def test_bad_requests_get_400_naming_the_field(client, integration_token, data, field) -> None:
    response = post(client, data, integration_token)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Message.objects.exists()


def test_a_body_that_is_not_json_gets_400(client, integration_token) -> None:
    response = client.post(
        "/api/interactions/",
        b"{oops",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {integration_token}",
    )
    assert response.status_code == 400
