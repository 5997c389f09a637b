"""`Authorization: tma <initData>` through the HTTP API, and /api/me."""

import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import CreditLedgerEntry, User
from tests.factories import UserFactory
from tests.helpers import api_client_for, init_data_for, run_in_threads

pytestmark = pytest.mark.django_db


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_first_request_creates_the_user_from_init_data():
    client = api_client_for(555, first_name="Ann", username="ann", language_code="ru", is_premium=True)
    response = client.get("/api/me")
    assert response.status_code == 200
    body = response.json()
    assert body["telegram_id"] == 555
    assert body["username"] == "ann"
    assert body["first_name"] == "Ann"
    assert body["language_code"] == "ru"
    assert body["credits"] == 0
    user = User.objects.get(telegram_id=555)
    assert user.is_premium
    assert not user.has_usable_password()


def test_profile_is_updated_from_newer_init_data(owner):
    response = api_client_for(owner.telegram_id, first_name="Renamed", username="new_name").get("/api/me")
    assert response.status_code == 200
    owner.refresh_from_db()
    assert (owner.first_name, owner.username) == ("Renamed", "new_name")


def test_unchanged_user_costs_one_query(owner, owner_client, django_assert_num_queries):
    owner_client.get("/api/me")
    with django_assert_num_queries(1):
        assert owner_client.get("/api/me").status_code == 200


def test_missing_header_is_auth_required(anonymous_client):
    response = anonymous_client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"
    assert response["WWW-Authenticate"] == "tma"


@pytest.mark.parametrize(
    "header",
    [
        "tma",
        "tma ",
        "Bearer abc",
        "tma garbage",
        "tma auth_date=1&hash=00",
        "tma " + init_data_for(1, bot_token="999:OTHER-TOKEN"),
        "tma " + init_data_for(1).replace("hash=", "hash=0"),
    ],
)
def test_bad_header_is_auth_invalid(header):
    response = client_with(header).get("/api/me")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "AUTH_INVALID"
    assert body["message"]
    assert not User.objects.exists()


def test_non_ascii_header_is_auth_invalid():
    response = APIClient().get("/api/me", HTTP_AUTHORIZATION="tma дата".encode().decode("latin-1"))
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_INVALID"


def test_expired_init_data_is_auth_expired():
    header = "tma " + init_data_for(1, auth_date=int(time.time()) - 86400 - 60)
    response = client_with(header).get("/api/me")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_EXPIRED"


@override_settings(TELEGRAM_INIT_DATA_MAX_AGE=60)
def test_max_age_setting_is_used():
    header = "tma " + init_data_for(1, auth_date=int(time.time()) - 120)
    assert client_with(header).get("/api/me").json()["code"] == "AUTH_EXPIRED"


def test_future_init_data_is_auth_invalid():
    header = "tma " + init_data_for(1, auth_date=int(time.time()) + 3600)
    assert client_with(header).get("/api/me").json()["code"] == "AUTH_INVALID"


def test_banned_user_gets_user_banned(owner, owner_client):
    owner.is_banned = True
    owner.save()
    response = owner_client.get("/api/me")
    assert response.status_code == 403
    assert response.json()["code"] == "USER_BANNED"


def test_errors_are_in_the_users_language():
    ru = api_client_for(777, language_code="ru")
    UserFactory.create(telegram_id=777, language_code="ru", is_banned=True)
    body = ru.get("/api/me").json()
    assert body["code"] == "USER_BANNED"
    assert body["message"] == "Ваш аккаунт заблокирован."


def test_unauthenticated_errors_follow_accept_language():
    body = APIClient().get("/api/me", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert body["code"] == "AUTH_REQUIRED"
    assert "учетные" in body["message"].lower() or "учётные" in body["message"].lower()


@override_settings(SIGNUP_BONUS_CREDITS=25)
def test_signup_bonus_is_granted_once(audit_passes):
    client = api_client_for(888)
    assert client.get("/api/me").json()["credits"] == 25
    assert client.get("/api/me").json()["credits"] == 25
    assert CreditLedgerEntry.objects.filter(user__telegram_id=888).count() == 1


@pytest.mark.django_db(transaction=True)
@override_settings(SIGNUP_BONUS_CREDITS=25)
def test_concurrent_first_requests_create_one_user_with_one_bonus(audit_passes):
    header = "tma " + init_data_for(999)

    def first_request(_i: int) -> int:
        return client_with(header).get("/api/me").status_code

    statuses = run_in_threads(8, first_request)
    assert statuses == [200] * 8
    user = User.objects.get(telegram_id=999)
    assert user.credits == 25
    assert CreditLedgerEntry.objects.filter(user=user).count() == 1
