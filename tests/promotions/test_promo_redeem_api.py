"""POST /api/promo/redeem: the code's credits once per user, through the ledger; the
contract's errors exactly (docs/api.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry
from promotions.models import PromoAttempt, PromoCode, PromoRedemption
from tests.factories import PromoCodeFactory
from tests.helpers import api_client_for
from tests.promotions.helpers import assert_error_body, balance, redeem

pytestmark = pytest.mark.django_db


def test_a_code_grants_its_credits_once_through_the_ledger(owner, owner_client, audit_passes):
    promo = PromoCodeFactory.create(code="SPRING25", credits=25, max_redemptions=3)

    response = redeem(owner_client, "SPRING25")

    assert response.status_code == 200, response.content
    assert response.json() == {"credits": 25, "balance": 25}
    assert balance(owner) == 25
    redemption = PromoRedemption.objects.get(promo=promo, user=owner)
    entry = CreditLedgerEntry.objects.get(user=owner)
    assert (entry.kind, entry.amount, entry.reference) == (CreditKind.PROMO, 25, f"promo:{redemption.pk}")
    promo.refresh_from_db()
    assert promo.redeemed == 1


@pytest.mark.parametrize("typed", ["spring25", "  Spring25\t", "\nSPRING25 "])
def test_codes_are_case_insensitive_and_trimmed(owner, owner_client, typed, audit_passes):
    PromoCodeFactory.create(code="SPRING25", credits=7)
    response = redeem(owner_client, typed)
    assert response.status_code == 200, response.content
    assert response.json() == {"credits": 7, "balance": 7}


def test_the_second_redemption_by_the_same_user_is_refused(owner, owner_client, audit_passes):
    promo = PromoCodeFactory.create(code="ONCE", credits=10)
    assert redeem(owner_client, "ONCE").status_code == 200

    assert_error_body(redeem(owner_client, "once"), 409, "PROMO_ALREADY_REDEEMED")
    assert balance(owner) == 10
    promo.refresh_from_db()
    assert promo.redeemed == 1


def test_an_exhausted_code_is_refused_but_others_redemptions_stand(owner, owner_client, stranger, stranger_client,
                                                                     audit_passes):
    PromoCodeFactory.create(code="ONLYONE", credits=10, max_redemptions=1)
    assert redeem(stranger_client, "ONLYONE").status_code == 200

    assert_error_body(redeem(owner_client, "ONLYONE"), 409, "PROMO_EXHAUSTED")
    assert (balance(owner), balance(stranger)) == (0, 10)


def test_already_redeemed_is_said_before_exhausted(owner, owner_client, audit_passes):
    PromoCodeFactory.create(code="LAST", credits=10, max_redemptions=1)
    assert redeem(owner_client, "LAST").status_code == 200
    assert_error_body(redeem(owner_client, "LAST"), 409, "PROMO_ALREADY_REDEEMED")


@pytest.mark.parametrize("case", ["unknown", "inactive", "expired", "malformed"])
def test_unknown_inactive_expired_codes_are_not_found(owner, owner_client, case, audit_passes):
    PromoCodeFactory.create(code="OFF", is_active=False)
    PromoCodeFactory.create(code="PAST", expires_at=timezone.now() - timedelta(seconds=1))
    typed = {"unknown": "NOPE", "inactive": "off", "expired": "past", "malformed": "no such code!"}[case]

    assert_error_body(redeem(owner_client, typed), 404, "PROMO_NOT_FOUND")
    assert balance(owner) == 0
    assert not PromoRedemption.objects.exists()
    assert PromoCode.objects.filter(redeemed__gt=0).count() == 0


def test_a_code_that_expires_later_still_works(owner, owner_client, audit_passes):
    PromoCodeFactory.create(code="SOON", credits=3, expires_at=timezone.now() + timedelta(minutes=1))
    assert redeem(owner_client, "SOON").status_code == 200


def test_the_message_is_in_the_users_language(owner, audit_passes):
    client = api_client_for(owner.telegram_id, first_name="Owner", username="owner", language_code="ru")
    body = assert_error_body(redeem(client, "NOPE"), 404, "PROMO_NOT_FOUND")
    assert body["message"] == "Такого промокода нет или он больше не действует."


@pytest.mark.parametrize(
    ("body", "field_error"),
    [
        ({}, "This field is required."),
        ({"code": ""}, "This field may not be blank."),
        ({"code": "   "}, "This field may not be blank."),
        ({"code": None}, "This field may not be null."),
        ({"code": "X" * 65}, "Ensure this field has no more than 64 characters."),
        ({"code": ["SPRING25"]}, "Not a valid string."),
    ],
)
def test_bad_input_is_a_validation_error_and_not_an_attempt(owner, owner_client, body, field_error, audit_passes):
    response = owner_client.post("/api/promo/redeem", body, format="json")
    assert_error_body(response, 400, "VALIDATION_ERROR", details={"code": [field_error]})
    assert not PromoAttempt.objects.exists()


def test_malformed_json_is_a_validation_error(owner_client):
    response = owner_client.post("/api/promo/redeem", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_without_init_data_nobody_redeems(anonymous_client, audit_passes):
    PromoCodeFactory.create(code="FREE")
    response = redeem(anonymous_client, "FREE")
    assert_error_body(response, 401, "AUTH_REQUIRED")
    assert not PromoRedemption.objects.exists()


def test_a_banned_user_redeems_nothing(owner, owner_client, audit_passes):
    owner.is_banned = True
    owner.save(update_fields=["is_banned"])
    PromoCodeFactory.create(code="FREE")
    assert_error_body(redeem(owner_client, "FREE"), 403, "USER_BANNED")
    assert not PromoRedemption.objects.exists() and not PromoAttempt.objects.exists()


def test_get_is_not_allowed(owner_client):
    assert owner_client.get("/api/promo/redeem").status_code == 405
