"""The daily bonus: DAILY_BONUS_CREDITS once per user per UTC day (GET says whether it
is there, POST takes it), off (404 NOT_FOUND) while the setting is 0."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from promotions.models import DailyBonusClaim
from tests.helpers import api_client_for, run_in_threads
from tests.promotions.helpers import assert_error_body, balance, claim


@pytest.mark.django_db
def test_off_by_default(owner_client, settings):
    settings.DAILY_BONUS_CREDITS = 0
    assert_error_body(claim(owner_client), 404, "NOT_FOUND")
    assert_error_body(owner_client.get("/api/bonus/daily"), 404, "NOT_FOUND")
    assert not DailyBonusClaim.objects.exists()


@pytest.mark.django_db
def test_claim_once_a_day_and_again_after_midnight_utc(owner, owner_client, bonus_on, clock, audit_passes):
    clock.set(datetime(2026, 12, 10, 23, 59, 59, tzinfo=UTC))
    assert owner_client.get("/api/bonus/daily").json() == {"credits": 5, "available": True, "next_at": None}

    response = claim(owner_client)
    assert response.status_code == 200, response.content
    assert response.json() == {"credits": 5, "balance": 5, "next_at": "2026-12-11T00:00:00Z"}
    entry = CreditLedgerEntry.objects.get(user=owner)
    assert (entry.kind, entry.amount, entry.reference) == (CreditKind.DAILY_BONUS, 5,
                                                           f"daily_bonus:{owner.pk}:2026-12-10")

    assert_error_body(claim(owner_client), 409, "BONUS_ALREADY_CLAIMED", details={"next_at": "2026-12-11T00:00:00Z"})
    assert owner_client.get("/api/bonus/daily").json() == {"credits": 5, "available": False,
                                                          "next_at": "2026-12-11T00:00:00Z"}
    assert balance(owner) == 5

    clock.set(datetime(2026, 12, 11, 0, 0, 0, tzinfo=UTC))  # midnight UTC: a new day
    assert owner_client.get("/api/bonus/daily").json()["available"] is True
    response = claim(owner_client)
    assert response.json() == {"credits": 5, "balance": 10, "next_at": "2026-12-12T00:00:00Z"}
    assert list(DailyBonusClaim.objects.filter(user=owner).order_by("day").values_list("day", flat=True)) == [
        date(2026, 12, 10), date(2026, 12, 11)]


@pytest.mark.django_db
def test_the_day_is_utc_whatever_the_clock_zone(owner, owner_client, bonus_on, clock, audit_passes):
    # 01:30 in Moscow (UTC+3) is still the previous day in UTC.
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 12, 11, 1, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    assert claim(owner_client).json()["next_at"] == "2026-12-11T00:00:00Z"
    assert DailyBonusClaim.objects.get(user=owner).day == date(2026, 12, 10)


@pytest.mark.django_db
def test_each_user_has_their_own_bonus(owner_client, stranger_client, bonus_on, clock, audit_passes):
    assert claim(owner_client).status_code == 200
    assert claim(stranger_client).status_code == 200


@pytest.mark.django_db
def test_the_amount_follows_the_setting_of_the_day(owner, owner_client, bonus_on, clock, audit_passes):
    assert claim(owner_client).json()["credits"] == 5
    bonus_on.DAILY_BONUS_CREDITS = 8
    clock.set(clock.now + timedelta(days=1))
    assert claim(owner_client).json() == {"credits": 8, "balance": 13, "next_at": "2026-12-12T00:00:00Z"}


@pytest.mark.django_db
def test_the_conflict_message_is_in_the_users_language(owner, bonus_on, clock, audit_passes):
    client = api_client_for(owner.telegram_id, first_name="Owner", username="owner", language_code="ru")
    claim(client)
    body = assert_error_body(claim(client), 409, "BONUS_ALREADY_CLAIMED", details={"next_at": "2026-12-11T00:00:00Z"})
    assert body["message"] == "Сегодняшний бонус уже получен. Приходите завтра."


@pytest.mark.django_db
def test_nobody_and_banned_users_claim_nothing(anonymous_client, owner, owner_client, bonus_on, audit_passes):
    assert_error_body(claim(anonymous_client), 401, "AUTH_REQUIRED")
    owner.is_banned = True
    owner.save(update_fields=["is_banned"])
    assert_error_body(claim(owner_client), 403, "USER_BANNED")
    assert not DailyBonusClaim.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_ten_claims_at_once_grant_one_bonus(owner, bonus_on, audit_passes):
    clients = [api_client_for(owner.telegram_id, first_name="Owner", username="owner") for _ in range(10)]

    responses = run_in_threads(10, lambda i: claim(clients[i]))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, [getattr(r, "content", r) for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"BONUS_ALREADY_CLAIMED"}
    owner.refresh_from_db()
    assert owner.credits == 5
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.DAILY_BONUS).count() == 1
