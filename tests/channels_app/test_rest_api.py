"""The REST edge as a whole: one error body for every kind of error, ids in every URL bounded,
answers exactly the payloads the selectors build, and an OpenAPI schema that validates with a
typed body for every operation."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import URLPattern
from django.utils import timezone
from rest_framework.exceptions import Throttled
from rest_framework.renderers import JSONRenderer

from channels_app.api import urls as api_urls
from channels_app.api.converters import IdConverter
from channels_app.api.errors import api_exception_handler
from contactcenter.kernel.ids import MAX_ID
from routing.explanations import explain_work_item
from routing.models import WorkItem
from routing.selectors.payloads import agent_payload_by_id, customer_timeline
from routing.services.offers import accept_offer
from tests.factories import (
    chat_queue,
    make_agent,
    make_supervisor,
    make_user,
    start_chat,
    status,
    work_item_of,
)

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"error", "field", "code"}


def json_post(client, url: str, data, **headers):
    return client.post(url, data, content_type="application/json", **headers)


def error_of(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str) and body["code"]
    return body


def grant(user, *codenames: str) -> None:
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))


@pytest.fixture
def integration_token() -> str:
    from rest_framework.authtoken.models import Token

    user = make_user("integration")
    grant(user, "add_interaction")
    return Token.objects.create(user=user).key


def intake(client, token: str, **fields):
    body = {
        "channel": "social",
        "from": {"kind": "platform", "platform": "telegram", "value": "42"},
        "body": "Hello",
        "message_id": "m-1",
        **fields,
    }
    return json_post(client, "/api/interactions/", body, HTTP_AUTHORIZATION=f"Token {token}")


# --- one error body for every kind of error --------------------------------------------------


def test_a_domain_error_of_bad_input_is_400_with_its_field(client, committed) -> None:
    with committed():
        item = work_item_of(start_chat("Waiting"))
    client.force_login(make_supervisor())
    body = error_of(json_post(client, f"/api/work-items/{item.pk}/reassign/", {}), 400)
    assert (body["field"], body["code"]) == ("queue_id", "invalid")


def test_a_domain_error_of_something_missing_is_404_with_its_field(client) -> None:
    client.force_login(make_supervisor())
    body = error_of(client.get("/api/work-items/999999/explanation/"), 404)
    assert body == {
        "error": "No work item 999999.",
        "field": "work_item_id",
        "code": "not_found",
    }


def test_a_domain_conflict_is_409_with_its_field(client, committed) -> None:
    agent = make_agent(available=True)
    with committed():
        item = work_item_of(start_chat("Taken"))
    with committed():
        accept_offer(agent=agent, offer_id=item.offers.get().pk)
    client.force_login(make_supervisor())
    response = json_post(client, f"/api/work-items/{item.pk}/priority/", {"priority": 5})
    body = error_of(response, 409)
    assert (body["field"], body["code"]) == ("work_item_id", "conflict")


def test_a_domain_refusal_is_403_in_the_same_body_on_a_webhook(client, settings) -> None:
    settings.INBOUND_EMAIL_TOKEN = "the-real-token"
    response = client.post(
        "/hooks/email/", b"x", content_type="message/rfc822", HTTP_AUTHORIZATION="Bearer guess"
    )
    body = error_of(response, 403)
    assert (body["field"], body["code"]) == (None, "forbidden")


def test_a_webhooks_bad_input_names_its_field_in_the_same_body(client, settings) -> None:
    settings.INBOUND_EMAIL_TOKEN = "the-real-token"
    response = client.post(
        "/hooks/email/",
        b"",
        content_type="message/rfc822",
        HTTP_AUTHORIZATION="Bearer the-real-token",
    )
    body = error_of(response, 400)
    assert (body["field"], body["code"]) == ("message", "invalid")


@pytest.mark.parametrize(
    ("sender", "field", "code"),
    [
        ({"kind": "pigeon", "value": "1"}, "from.kind", "invalid_choice"),
        ({"kind": "platform", "platform": "telegram"}, "from.value", "required"),
        ({"kind": "platform", "platform": "telegram", "value": 42}, "from.value", "invalid"),
        ({"kind": "platform", "platform": "t" * 31, "value": "1"}, "from.platform", "max_length"),
        ("ana", "from", "invalid"),
    ],
)
def test_a_refused_nested_field_is_named_by_its_dotted_path(
    client, integration_token, sender, field, code
) -> None:
    body = error_of(intake(client, integration_token, **{"from": sender}), 400)
    assert (body["field"], body["code"]) == (field, code)
    assert body["error"].startswith(f"{field}: ")


def test_a_refused_list_element_names_the_list(client, integration_token) -> None:
    body = error_of(intake(client, integration_token, in_reply_to=["m-0", 7]), 400)
    assert (body["field"], body["code"]) == ("in_reply_to", "invalid")


def test_a_body_that_is_not_an_object_names_the_body(client, integration_token) -> None:
    body = error_of(
        json_post(
            client, "/api/interactions/", [1, 2], HTTP_AUTHORIZATION=f"Token {integration_token}"
        ),
        400,
    )
    assert (body["field"], body["code"]) == ("body", "invalid")


def test_malformed_json_is_400_naming_the_body(client, integration_token) -> None:
    response = client.post(
        "/api/interactions/",
        b'{"channel": ',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {integration_token}",
    )
    body = error_of(response, 400)
    assert (body["field"], body["code"]) == ("body", "parse_error")


def test_a_request_without_credentials_is_refused_in_the_same_body(client) -> None:
    body = error_of(client.get("/api/work-items/1/explanation/"), 403)
    assert (body["field"], body["code"]) == (None, "not_authenticated")


def test_a_wrong_token_is_refused_in_the_same_body(client) -> None:
    response = json_post(client, "/api/interactions/", {}, HTTP_AUTHORIZATION="Token nope")
    body = error_of(response, 403)
    assert (body["field"], body["code"]) == (None, "authentication_failed")


def test_a_user_without_the_role_is_refused_in_the_same_body(client) -> None:
    client.force_login(make_agent().user)
    body = error_of(client.get("/api/work-items/1/explanation/"), 403)
    assert (body["field"], body["code"]) == (None, "permission_denied")


def test_only_agents_reply_with_files(client) -> None:
    client.force_login(make_supervisor())
    body = error_of(client.post("/api/work-items/1/replies/", {"body": "x"}), 403)
    assert body["code"] == "permission_denied"


def test_a_wrong_method_is_405_in_the_same_body(client) -> None:
    client.force_login(make_supervisor())
    body = error_of(client.get("/api/work-items/1/priority/"), 405)
    assert (body["field"], body["code"]) == (None, "method_not_allowed")


def test_a_body_that_is_not_json_is_415_in_the_same_body(client) -> None:
    agent = make_agent()
    client.force_login(make_supervisor())
    response = client.post(f"/api/agents/{agent.pk}/presence/", {"status_id": ""})
    body = error_of(response, 415)
    assert (body["field"], body["code"]) == (None, "unsupported_media_type")


def test_throttling_answers_429_with_when_to_retry() -> None:
    response = api_exception_handler(Throttled(wait=7), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert set(response.data) == ERROR_KEYS
    assert (response.data["field"], response.data["code"]) == (None, "throttled")


def test_a_fault_is_left_to_djangos_500_handling() -> None:
    assert api_exception_handler(RuntimeError("bug"), {}) is None


def test_an_unknown_field_in_a_profile_edit_is_named(client) -> None:
    customer_id = start_chat("Ana").case.customer_id
    client.force_login(make_agent().user)
    response = client.patch(
        f"/api/customers/{customer_id}/", {"is_vip": True}, content_type="application/json"
    )
    body = error_of(response, 400)
    assert (body["field"], body["code"]) == ("is_vip", "unknown_field")


# --- ids: bounded in bodies, and in every URL -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/work-items/{item}/reassign/", {"queue_id": MAX_ID + 1}, "queue_id"),
        ("/api/work-items/{item}/reassign/", {"agent_id": 0}, "agent_id"),
        ("/api/work-items/{item}/reassign/", {"agent_id": 1.0}, "agent_id"),
        ("/api/work-items/{item}/reassign/", {"queue_id": "1"}, "queue_id"),
        ("/api/agents/{agent}/presence/", {"status_id": MAX_ID + 1}, "status_id"),
        ("/api/customers/{customer}/merge/", {"merge": MAX_ID + 1}, "merge"),
        ("/api/customers/{customer}/merge/", {"merge": -1}, "merge"),
        ("/api/work-items/{item}/priority/", {"priority": 1.5}, "priority"),
    ],
)
def test_an_id_in_a_body_is_a_positive_64_bit_integer(client, url, body, field) -> None:
    chat = start_chat("Ana")
    user = make_supervisor()
    grant(user, "change_customer")
    client.force_login(user)
    target = url.format(
        item=work_item_of(chat).pk, agent=make_agent().pk, customer=chat.case.customer_id
    )
    error = error_of(json_post(client, target, body), 400)
    assert error["field"] == field


OUT_OF_RANGE = [str(MAX_ID + 1), str(2**70), "9" * 5000]

# Every URL with an id, with a request that would succeed for an id that exists, and the field
# its 404 names. (The CRM's merge names the customer of the URL "survivor".)
ID_URLS = {
    "customers/<id:customer_id>/timeline/": ("get", None, "customer_id"),
    "customers/<id:customer_id>/": ("patch", {"tier": "gold"}, "customer_id"),
    "customers/<id:customer_id>/merge/": ("post", "merge", "survivor"),
    "attachments/<id:attachment_id>/": ("get", None, "attachment_id"),
    "agents/<id:agent_id>/presence/": ("post", {"status_id": None}, "agent_id"),
    "work-items/<id:work_item_id>/replies/": ("multipart", {"body": "Hi"}, "work_item_id"),
    "work-items/<id:work_item_id>/explanation/": ("get", None, "work_item_id"),
    "work-items/<id:work_item_id>/priority/": ("post", {"priority": 1}, "work_item_id"),
    "work-items/<id:work_item_id>/reassign/": ("post", "queue", "work_item_id"),
}


def test_every_url_with_an_id_is_covered_by_the_bounds_test() -> None:
    with_ids = {
        str(pattern.pattern)
        for pattern in api_urls.urlpatterns
        if isinstance(pattern, URLPattern) and "<" in str(pattern.pattern)
    }
    assert with_ids == set(ID_URLS)
    assert all("<id:" in route for route in with_ids)


@pytest.fixture
def does_everything(client):
    """An agent who also supervises and may change customers: every endpoint lets them in."""
    user = make_agent("allrounder").user
    grant(user, "supervise", "change_customer")
    client.force_login(user)
    return client


@pytest.mark.parametrize("route", sorted(ID_URLS))
@pytest.mark.parametrize("number", OUT_OF_RANGE, ids=["max+1", "2**70", "5000-digits"])
def test_an_id_beyond_any_row_in_any_url_is_404_naming_its_field(
    does_everything, route: str, number: str
) -> None:
    method, body, field = ID_URLS[route]
    if body == "merge":
        body = {"merge": start_chat("Other").case.customer_id}
    elif body == "queue":
        body = {"queue_id": chat_queue().pk}
    url = "/api/" + route.split("<", 1)[0] + number + "/" + route.split(">/", 1)[1]
    if method == "multipart":
        response = does_everything.post(url, body)
    elif body is None:
        response = getattr(does_everything, method)(url)
    else:
        response = getattr(does_everything, method)(url, body, content_type="application/json")
    error = error_of(response, 404)
    assert (error["field"], error["code"]) == (field, "not_found")


def test_the_id_converter_keeps_ids_in_range_and_turns_the_rest_into_no_row() -> None:
    converter = IdConverter()
    assert converter.to_python("42") == 42
    assert converter.to_python("0042") == 42
    assert converter.to_python(str(MAX_ID)) == MAX_ID
    assert converter.to_python("0" * 40 + str(MAX_ID)) == MAX_ID
    assert converter.to_python(str(MAX_ID + 1)) == 0
    assert converter.to_python("9" * 5000) == 0
    assert converter.to_url(42) == "42"


# --- answers are the selectors' payloads, byte for byte ----------------------------------------


def rendered(payload) -> bytes:
    return JSONRenderer().render(payload)


@pytest.fixture
def frozen_now(monkeypatch):
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def test_the_timeline_answers_the_selectors_payload_unchanged(client) -> None:
    chat = start_chat("Ana", body="Where is my parcel?")
    client.force_login(make_agent().user)
    customer_id = chat.case.customer_id
    response = client.get(f"/api/customers/{customer_id}/timeline/")
    assert response.status_code == 200
    assert response.content == rendered(customer_timeline(customer_id))


def test_explanations_answer_the_selectors_payload_unchanged(client, committed, frozen_now) -> None:
    make_agent("roomy", capacity=2, available=True)
    make_agent("away")
    with committed():
        offered = work_item_of(start_chat("First"))
        waiting = work_item_of(start_chat("Second"))
    client.force_login(make_supervisor())
    for item in (offered, waiting):
        item.refresh_from_db()
        response = client.get(f"/api/work-items/{item.pk}/explanation/")
        assert response.status_code == 200
        assert response.content == rendered(explain_work_item(item.pk, frozen_now))
    WorkItem.objects.filter(pk=waiting.pk).update(status=WorkItem.Status.ABANDONED)
    response = client.get(f"/api/work-items/{waiting.pk}/explanation/")
    assert response.content == rendered(explain_work_item(waiting.pk, frozen_now))
    assert set(response.json()) == {
        "work_item_id",
        "status",
        "queue",
        "channel",
        "waited_seconds",
        "summary",
    }


def test_a_presence_change_answers_the_agents_payload_unchanged(client) -> None:
    agent = make_agent(available=True)
    client.force_login(make_supervisor())
    response = json_post(
        client, f"/api/agents/{agent.pk}/presence/", {"status_id": status("Break").pk}
    )
    assert response.status_code == 200
    assert response.content == rendered(agent_payload_by_id(agent.pk))


def test_the_bot_report_answers_the_selectors_payload_unchanged(client, frozen_now) -> None:
    from datetime import timedelta

    from contactcenter.crm.selectors import bot_report

    client.force_login(make_supervisor())
    response = client.get("/api/reports/bot/?hours=5")
    assert response.content == rendered(bot_report(frozen_now - timedelta(hours=5)))
    assert client.get("/api/reports/bot/").json()["since"] == (
        (frozen_now - timedelta(hours=24)).isoformat()
    )


def test_a_merge_answers_its_record_with_the_iso_time_as_before(client) -> None:
    from contactcenter.crm.models import CustomerMerge

    survivor = start_chat("Ana", email="ana@example.com").case.customer
    other = start_chat("Ana L", email="ana.l@example.com").case.customer
    user = make_user()
    grant(user, "change_customer")
    client.force_login(user)
    response = json_post(client, f"/api/customers/{survivor.pk}/merge/", {"merge": other.pk})
    record = CustomerMerge.objects.get()
    assert response.json() == {
        "survivor_id": survivor.pk,
        "merged_customer_id": other.pk,
        "moved": record.moved,
        "merged_at": record.merged_at.isoformat(),
    }


def test_stored_and_duplicate_intake_answers_keep_their_shape(client, integration_token) -> None:
    first = intake(client, integration_token)
    again = intake(client, integration_token)
    assert (first.status_code, again.status_code) == (201, 200)
    assert list(first.json()) == [
        "message_id",
        "interaction_id",
        "case_id",
        "customer_id",
        "work_item_id",
        "duplicate",
    ]
    assert {**first.json(), "duplicate": True} == again.json()


# --- the OpenAPI schema -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker) -> dict:
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    with django_db_blocker.unblock():
        # Raises on any warning or error, and validates against the OpenAPI 3 specification.
        call_command(
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--format",
            "openapi-json",
            "--file",
            str(path),
        )
    return json.loads(path.read_text())


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def assert_typed_object(schema: dict, node: dict, where: str) -> None:
    body = resolve(schema, node)
    assert body.get("type") == "object", where
    assert body.get("properties"), f"{where}: a free-form object"
    assert "additionalProperties" not in body, where
    for name, prop in body["properties"].items():
        assert {"type", "$ref", "allOf", "oneOf"} & set(prop), f"{where}.{name} has no type"


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield f"{method.upper()} {path}", method, operation


def test_the_schema_validates_and_documents_every_operation(schema) -> None:
    documented = sorted(name for name, _, _ in operations(schema))
    assert documented == [
        "GET /api/attachments/{attachment_id}/",
        "GET /api/customers/{customer_id}/timeline/",
        "GET /api/reports/bot/",
        "GET /api/voice/token/",
        "GET /api/work-items/{work_item_id}/explanation/",
        "PATCH /api/customers/{customer_id}/",
        "POST /api/agents/{agent_id}/presence/",
        "POST /api/customers/{customer_id}/merge/",
        "POST /api/interactions/",
        "POST /api/work-items/{work_item_id}/priority/",
        "POST /api/work-items/{work_item_id}/reassign/",
        "POST /api/work-items/{work_item_id}/replies/",
    ]


def test_every_operation_has_typed_request_and_response_bodies(schema) -> None:
    for name, method, operation in operations(schema):
        if method in {"post", "patch"}:
            [(media_type, content)] = operation["requestBody"]["content"].items()
            assert media_type in {"application/json", "multipart/form-data"}, name
            assert_typed_object(schema, content["schema"], f"{name} request")
        statuses = set(operation["responses"])
        assert statuses & {"200", "201"}, name
        assert "403" in statuses, name
        for status_code, response in operation["responses"].items():
            [(media_type, content)] = response["content"].items()
            where = f"{name} {status_code}"
            if media_type == "application/octet-stream":
                assert content["schema"] == {"type": "string", "format": "binary"}, where
                continue
            assert media_type == "application/json", where
            assert_typed_object(schema, content["schema"], where)
            if int(status_code) >= 400:
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, where


def test_every_id_in_a_path_is_a_64_bit_integer(schema) -> None:
    for name, _, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] == "integer", name
                assert parameter["schema"]["format"] == "int64", name


def test_the_schema_is_served(client) -> None:
    client.force_login(make_user())
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/work-items/{work_item_id}/reassign/" in response.json()["paths"]
