"""Who a broadcast goes to: Telegram users the bot can write to, narrowed by the audience
(everyone, active in the last N days, paid at least once, never paid) and the language."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from generations.models import Generation
from payments.models import CreditPack, Payment
from telegram_bot.broadcasts.selectors import broadcast_audience
from tests.factories import (
    AIModelFactory,
    BroadcastFactory,
    CreditPackFactory,
    GenerationFactory,
    PaidPaymentFactory,
    PaymentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def user(telegram_id: int, language_code: str = "en", **fields) -> User:
    return UserFactory.create(telegram_id=telegram_id, first_name=f"U{telegram_id}", language_code=language_code,
                               **fields)


def audience(**fields) -> set[int]:
    broadcast = BroadcastFactory.create(**fields)
    return {telegram_id for telegram_id in broadcast_audience(broadcast=broadcast).values_list("telegram_id", flat=True)
            if telegram_id is not None}


@pytest.fixture
def pack(db) -> CreditPack:
    return CreditPackFactory.create(stars=50, credits=60)


def test_everyone_means_every_telegram_user_the_bot_can_write_to():
    user(1)
    user(2, is_reachable=False)  # blocked the bot
    user(3, is_banned=True)
    User.objects.create_user(email="staff-only@example.com", password="x", is_staff=True)  # no Telegram account
    user(4, is_active=False)
    assert audience() == {1}


def test_language_follows_the_bots_language_for_the_user():
    for telegram_id, code in [(1, "ru"), (2, "ru-RU"), (3, "RU"), (4, "en"), (5, "de"), (6, ""), (7, "pt-br"),
                              (8, "rue")]:
        user(telegram_id, code)
    assert audience(language="ru") == {1, 2, 3}
    assert audience(language="en") == {4, 5, 6, 7, 8}
    assert audience() == set(range(1, 9))


def test_paid_at_least_once_and_never_paid(pack, fake_telegram):
    paid, refunded, pending_only = user(1), user(2), user(3)
    user(4)  # never had a payment
    PaidPaymentFactory.create(user=paid, pack=pack)
    PaidPaymentFactory.create(user=refunded, pack=pack)
    Payment.objects.filter(user=refunded).update(status=Payment.Status.REFUNDED, refunded_at=timezone.now())
    PaymentFactory.create(user=pending_only, pack=pack)
    assert audience(audience="paid") == {1, 2}
    assert audience(audience="never_paid") == {3, 4}
    assert audience(audience="paid", language="ru") == set()


def test_active_in_the_last_days_joined_generated_or_paid(pack, fake_telegram):
    long_ago = timezone.now() - timedelta(days=40)
    joined_recently = user(1)
    generated, paid, idle, generated_long_ago = user(2), user(3), user(4), user(5)
    User.objects.filter(pk__in=[generated.pk, paid.pk, idle.pk, generated_long_ago.pk]).update(created_at=long_ago)
    model = AIModelFactory.create()
    GenerationFactory.create(user=generated, model=model)
    old = GenerationFactory.create(user=generated_long_ago, model=model)
    Generation.objects.filter(pk=old.pk).update(created_at=long_ago)
    PaidPaymentFactory.create(user=paid, pack=pack)
    assert audience(audience="active", active_days=7) == {joined_recently.telegram_id, 2, 3}
    assert audience(audience="active", active_days=60) == {1, 2, 3, 4, 5}
