"""The cap and once-per-user hold under real concurrency on PostgreSQL (real threads,
each with its own connection)."""

import pytest
from django.test.utils import override_settings

from accounts.models import CreditKind, CreditLedgerEntry, User
from promotions.models import PromoRedemption
from tests.factories import PromoCodeFactory, UserFactory
from tests.helpers import api_client_for, run_in_threads
from tests.promotions.helpers import redeem

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_users_racing_for_a_code_capped_at_ten_get_exactly_ten(audit_passes):
    promo = PromoCodeFactory.create(code="RACE", credits=5, max_redemptions=10)
    users = [UserFactory.create(telegram_id=50_000 + i, first_name=f"U{i}", language_code="en") for i in range(50)]
    clients = [api_client_for(50_000 + i, first_name=f"U{i}") for i in range(len(users))]

    responses = run_in_threads(50, lambda i: redeem(clients[i], "race"))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [409] * 40, [getattr(r, "content", r) for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"PROMO_EXHAUSTED"}
    promo.refresh_from_db()
    assert promo.redeemed == 10
    assert PromoRedemption.objects.filter(promo=promo).count() == 10
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.PROMO).count() == 10
    assert sum(User.objects.filter(pk__in=[u.pk for u in users]).values_list("credits", flat=True)) == 50


@override_settings(PROMO_RATE_LIMIT_ATTEMPTS=100)
def test_one_user_sending_the_code_twenty_times_at_once_gets_it_once(owner, audit_passes):
    promo = PromoCodeFactory.create(code="TWICE", credits=5, max_redemptions=100)
    clients = [api_client_for(owner.telegram_id, first_name="Owner", username="owner") for _ in range(20)]

    responses = run_in_threads(20, lambda i: redeem(clients[i], "TWICE"))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [getattr(r, "content", r) for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"PROMO_ALREADY_REDEEMED"}
    promo.refresh_from_db()
    assert promo.redeemed == 1
    owner.refresh_from_db()
    assert owner.credits == 5
