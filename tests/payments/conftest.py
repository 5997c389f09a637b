"""Fixtures of the money side: a pack, payments in each state, a referrer, staff."""

import itertools
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from payments.models import CreditPack, Payment
from payments.services import invoice_payload_for, payment_confirm, referral_link

REFERRER_TELEGRAM_ID = 3003

_charges = itertools.count(1)


def charge_id_new() -> str:
    return f"stxTEST{next(_charges):06d}"


@pytest.fixture
def pack(db: None) -> CreditPack:
    return CreditPack.objects.create(
        slug="test-pack", title="Test: 120 credits", title_ru="Тест: 120 кредитов", stars=100, credits=120,
        sort_order=1,
    )


def payment_pending(user: User, pack: CreditPack) -> Payment:
    """A pending payment as the invoice endpoint leaves it (without calling Telegram)."""
    payment = Payment.objects.create(user=user, pack=pack, stars=pack.stars, credits=pack.credits)
    payment.invoice_payload = invoice_payload_for(payment)
    payment.invoice_link = f"https://t.me/$test{payment.pk}"
    payment.save()
    return payment


def payment_paid(user: User, pack: CreditPack) -> Payment:
    """A payment paid through the real confirmation service."""
    payment = payment_pending(user, pack)
    return payment_confirm(
        telegram_user_id=user.telegram_id,
        payload=payment.invoice_payload,
        currency="XTR",
        total_amount=payment.stars,
        telegram_payment_charge_id=charge_id_new(),
        provider_payment_charge_id="",
    )


@pytest.fixture
def make_pending() -> Callable[[User, CreditPack], Payment]:
    return payment_pending


@pytest.fixture
def make_paid() -> Callable[[User, CreditPack], Payment]:
    return payment_paid


@pytest.fixture
def referrer(db: None) -> User:
    return User.objects.create(telegram_id=REFERRER_TELEGRAM_ID, username="referrer", first_name="Referrer",
                               language_code="en")


@pytest.fixture
def referred_owner(owner: User, referrer: User) -> User:
    """The owner, invited by the referrer."""
    assert referral_link(referrer=referrer, new_user=owner)
    return owner


@pytest.fixture
def staff_client(staff_user: User) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def plain_staff(db: None) -> User:
    """A staff member who may view money pages but has no money-moving permission."""
    user = User.objects.create_user(email="viewer@example.com", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="payments", codename__startswith="view_")
    )
    return user


@pytest.fixture
def plain_staff_client(plain_staff: User) -> Client:
    client = Client()
    client.force_login(plain_staff)
    return client


_buyers = itertools.count(900_000)


def earnings_give(referrer: User, amount: int) -> Payment:
    """Earn the referrer `amount` Stars the honest way: an invited user buys a pack
    whose commission (REFERRAL_PERCENT, 10 in tests) is exactly `amount`."""
    buyer = User.objects.create(telegram_id=next(_buyers), first_name="Buyer")
    assert referral_link(referrer=referrer, new_user=buyer)
    big_pack = CreditPack.objects.create(
        slug=f"earn-{buyer.telegram_id}", title="Big", stars=amount * 10, credits=amount * 10
    )
    return payment_paid(buyer, big_pack)
