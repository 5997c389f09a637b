"""audit_ledger knows the promotions' money rule: each redemption and each daily bonus
claim has exactly one grant of its amount to its user, no grant without one, and each
code's counter equals its redemptions."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from accounts.audit import audit_run
from accounts.models import CreditKind
from accounts.services import credits_change
from promotions.models import DailyBonusClaim, PromoCode, PromoRedemption
from tests.factories import PromoCodeFactory
from tests.promotions.helpers import claim, redeem

pytestmark = pytest.mark.django_db


def problems(check: str) -> list[str]:
    return audit_run()[check]


def test_redemptions_through_the_api_pass(owner_client, stranger_client, audit_passes):
    PromoCodeFactory.create(code="OK1")
    redeem(owner_client, "OK1")
    redeem(stranger_client, "OK1")
    assert problems("promo redemptions") == []


def test_a_redemption_without_its_grant_is_reported(owner):
    promo = PromoCodeFactory.create(code="NOGRANT", credits=4)
    redemption = PromoRedemption.objects.create(promo=promo, user=owner, credits=4,
                                                created_at=datetime(2026, 1, 1, tzinfo=UTC))
    PromoCode.objects.filter(pk=promo.pk).update(redeemed=1)
    assert problems("promo redemptions") == [
        f"promo redemption {redemption.pk} (4 credits to user {owner.pk}) has grant None to user None "
        "instead of exactly one PROMO of 4"
    ]
    with pytest.raises(CommandError):
        call_command("audit_ledger")


def test_a_grant_of_the_wrong_amount_a_stray_grant_and_a_wrong_counter_are_reported(owner, owner_client):
    promo = PromoCodeFactory.create(code="WRONG", credits=4)
    redeem(owner_client, "WRONG")
    redemption = PromoRedemption.objects.get()
    PromoRedemption.objects.filter(pk=redemption.pk).update(credits=5)
    PromoCode.objects.filter(pk=promo.pk).update(redeemed=0)
    stray = credits_change(user_id=owner.pk, amount=3, kind=CreditKind.PROMO, reference="promo:999999")
    found = problems("promo redemptions")
    assert found == [
        f"promo redemption {redemption.pk} (5 credits to user {owner.pk}) has grant 4 to user {owner.pk} "
        "instead of exactly one PROMO of 5",
        f"credit ledger entry {stray.pk}: PROMO of 3 for 'promo:999999', which is no redemption",
        "promo code WRONG: counter 0, 1 redemptions, cap 100",
    ]


def test_daily_bonus_claims_through_the_api_pass(owner_client, bonus_on, audit_passes):
    claim(owner_client)
    assert problems("daily bonus claims") == []


def test_a_claim_without_its_grant_and_a_stray_grant_are_reported(owner, bonus_on):
    bonus = DailyBonusClaim.objects.create(user=owner, day=date(2026, 3, 4), credits=5,
                                           created_at=datetime(2026, 3, 4, tzinfo=UTC))
    stray = credits_change(user_id=owner.pk, amount=5, kind=CreditKind.DAILY_BONUS,
                           reference=f"daily_bonus:{owner.pk}:2026-03-05")
    assert problems("daily bonus claims") == [
        f"daily bonus claim {bonus.pk} (user {owner.pk}, 2026-03-04, 5 credits) has grant None to user None "
        "instead of exactly one DAILY_BONUS of 5",
        f"credit ledger entry {stray.pk}: DAILY_BONUS of 5 for 'daily_bonus:{owner.pk}:2026-03-05', which is no claim",
    ]
