"""Fixtures of the money side: a pack, payments in each state, a referrer, staff."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from payments.models import CreditPack, Payment
from payments.services import referral_link
from tests.factories import CreditPackFactory, PaidPaymentFactory, PaymentFactory, UserFactory
from tests.payments.helpers import REFERRER_TELEGRAM_ID


@pytest.fixture
def pack(db: None) -> CreditPack:
    return CreditPackFactory.create(
        slug="test-pack", title="Test: 120 credits", title_ru="Тест: 120 кредитов", stars=100, credits=120,
        sort_order=1,
    )


@pytest.fixture
def make_pending() -> Callable[[User, CreditPack], Payment]:
    """`make_pending(user, pack)`: a pending payment with its signed invoice payload."""
    return lambda user, pack: PaymentFactory.create(user=user, pack=pack)


@pytest.fixture
def make_paid() -> Callable[[User, CreditPack], Payment]:
    """`make_paid(user, pack)`: a payment paid through the confirmation service."""
    return lambda user, pack: PaidPaymentFactory.create(user=user, pack=pack)


@pytest.fixture
def referrer(db: None) -> User:
    return UserFactory.create(telegram_id=REFERRER_TELEGRAM_ID, username="referrer", first_name="Referrer",
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
