"""Malformed input of any kind is a 400 in the contract's error body, never a 500:
cursors that are not ours, lone surrogates, deep nesting, numbers past 64 bits (the
API); an absurd grant and a period at the end of the calendar (the admin)."""

import base64

import pytest
from django.test import Client

from generations.models import AIModel
from tests.factories import AIModelFactory
from tests.helpers import credits_give

pytestmark = pytest.mark.django_db


def cursor(position: str) -> str:
    return base64.b64encode(f"p={position}".encode()).decode()


def assert_contract_400(response, field: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["message"], body
    if field:
        assert field in body["details"], body
    return body


@pytest.fixture
def staff_client_superuser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def world(owner):
    credits_give(owner, 100)
    AIModelFactory.create(slug="bad-input", name="Bad input", kind=AIModel.Kind.IMAGE, provider_model_id="x/y",
                           price=5, params_schema={"seed": {"type": "integer", "min": 1, "max": 10}})


@pytest.mark.parametrize("path", ["/api/generations", "/api/payments", "/api/withdrawals"])
@pytest.mark.parametrize("position", ["abc", "1e5", "%00", "-1", "99999999999999999999", "1%200"])
def test_a_cursor_with_a_position_that_is_not_ours_is_refused(owner_client, world, path, position):
    assert_contract_400(owner_client.get(path, {"cursor": cursor(position)}), "cursor")


@pytest.mark.parametrize(
    "body",
    [
        '{"model": "bad-input", "prompt": "x", "params": {"\\ud800": 1}}',
        '{"model": "bad-input", "prompt": "x\\udfff"}',
        '{"model": "\\ud800", "prompt": "x"}',
        '{"model": "bad-input", "prompt": "x", "params": {"seed": NaN}}',
        '{"model": "bad-input", "prompt": "x", "params": {"seed": Infinity}}',
        '{"model": "bad-input", "prompt": "x", "params": {"seed": 1e400}}',
        '{"model": "bad-input", "prompt": "x", "params": {"seed": 9223372036854775808}}',
        "[" * 5000 + "]" * 5000,
        '{"model": "bad-input", "prompt": "x", "params": {"seed": ' + "[" * 5000 + "]" * 5000 + "}}",
        '{"model": "bad-input", "prompt": "x", "params": ' + '{"a": ' * 40 + "1" + "}" * 41,
    ],
    ids=["surrogate-key", "surrogate-value", "surrogate-model", "nan", "infinity", "1e400", "2^63",
         "nested-5000", "nested-5000-in-params", "nested-40"],
)
def test_json_that_no_later_step_can_take_is_refused_at_the_door(owner_client, world, audit_passes, body):
    response = owner_client.post("/api/generations", body, content_type="application/json")
    details = assert_contract_400(response)["details"]
    # Reported where the problem is: the member that holds it, or the body itself.
    assert set(details) <= {"body", "model", "prompt", "params"} and len(details) == 1, details


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/withdrawals", '{"amount": 100, "method": "\\ud800", "destination": "x"}'),
     ("/api/withdrawals", '{"amount": 99999999999999999999999, "method": "ton", "destination": "x"}'),
     ("/api/payments/invoice", '{"pack": "\\ud800"}')],
)
def test_other_endpoints_refuse_the_same_input(owner_client, world, fake_telegram, path, body):
    assert_contract_400(owner_client.post(path, body, content_type="application/json"))


def test_ordinary_json_still_starts_a_generation(owner_client, world, audit_passes):
    response = owner_client.post("/api/generations", '{"model": "bad-input", "prompt": "ok", "params": {"seed": 3}}',
                                 content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_staff_grant_of_2_pow_63_is_a_form_error(staff_client_superuser, owner, audit_passes):
    response = staff_client_superuser.post(
        "/admin/accounts/user/",
        {"action": "change_credits", "_selected_action": [owner.pk], "apply": "1", "amount": str(2**63),
         "reason": "typo"},
    )
    assert response.status_code == 200
    assert b"Ensure this value is less than or equal to 1000000000" in response.content
    owner.refresh_from_db()
    assert owner.credits == 0


@pytest.mark.parametrize(
    "period",
    [{"first": "9999-12-30", "last": "9999-12-31"}, {"last": "0001-01-02"}, {"first": "0001-01-01"},
     {"first": "9999-12-31"}],
)
def test_a_dashboard_period_at_the_end_of_the_calendar_is_a_form_error(staff_client_superuser, period):
    response = staff_client_superuser.get("/admin/dashboard/", period)
    assert response.status_code == 200
    assert b"Choose dates from 2000-01-01 to 2099-12-31." in response.content
