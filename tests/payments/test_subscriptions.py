"""Stars subscriptions: the invoice link of a subscription pack, the first payment
starting the Subscription, each renewal granting its credits once, the user's list
and cancel, staff's cancel, and the audit of their grants."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.audit import audit_run
from accounts.models import CreditKind, CreditLedgerEntry, User
from payments.errors import PaymentNotMatched
from payments.models import CreditPack, Payment, PaymentIssue, Subscription
from payments.services import payment_confirm
from tests.factories import CreditPackFactory, PaymentFactory
from tests.fakes.telegram_updates import telegram_profile
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db

MONTH = 2592000


@pytest.fixture
def monthly(db: None) -> CreditPack:
    return CreditPackFactory.create(slug="monthly", title="Monthly: 500 credits", title_ru="Месяц: 500 кредитов",
                                     stars=300, credits=500, period_days=30, sort_order=5)


def first_payment(user: User, pack: CreditPack, fake) -> tuple[Payment, dict]:
    """The subscription's first payment, confirmed as the bot does."""
    assert user.telegram_id is not None
    pending = PaymentFactory.create(user=user, pack=pack, period_days=pack.period_days)
    paid = fake.stars.payment(telegram_profile(user.telegram_id), payload=pending.invoice_payload, amount=pack.stars,
                              subscription_period=MONTH)
    return confirm(user, paid), paid


def confirm(user: User, paid: dict) -> Payment:
    assert user.telegram_id is not None
    return payment_confirm(
        telegram_user_id=user.telegram_id, payload=paid["invoice_payload"], currency=paid["currency"],
        total_amount=paid["total_amount"], telegram_payment_charge_id=paid["telegram_payment_charge_id"],
        subscription_expires_at=datetime.fromtimestamp(paid["subscription_expiration_date"], tz=UTC),
    )


def grants(user: User) -> list[int]:
    return list(CreditLedgerEntry.objects.filter(user=user, kind=CreditKind.PURCHASE).values_list("amount", flat=True))


def test_a_subscription_packs_invoice_link_asks_for_the_period(owner_client, monthly, fake_telegram):
    response = owner_client.post("/api/payments/invoice", {"pack": "monthly"}, format="json")

    assert response.status_code == 201, response.json()
    call = fake_telegram.last("createInvoiceLink")
    assert (call["subscription_period"], call["currency"], call["prices"][0]["amount"]) == (MONTH, "XTR", 300)
    assert Payment.objects.get(pk=response.json()["payment_id"]).period_days == 30
    packs = {pack["slug"]: pack for pack in owner_client.get("/api/payments/packs").json()}
    assert packs["monthly"]["period_days"] == 30


def test_a_short_period_is_for_telegrams_test_environment_only(owner_client, monthly, fake_telegram, settings):
    settings.STARS_SUBSCRIPTION_PERIOD_SECONDS = 300
    response = owner_client.post("/api/payments/invoice", {"pack": "monthly"}, format="json")
    assert response.status_code == 503  # Telegram's production API refuses it
    assert Payment.objects.get().status == "failed"

    fake_telegram.stars.test_environment = True
    response = owner_client.post("/api/payments/invoice", {"pack": "monthly"}, format="json")
    assert response.status_code == 201
    assert fake_telegram.last("createInvoiceLink")["subscription_period"] == 300


def test_one_time_packs_have_no_period(owner_client, pack, fake_telegram):
    assert owner_client.post("/api/payments/invoice", {"pack": pack.slug}, format="json").status_code == 201
    assert "subscription_period" not in fake_telegram.last("createInvoiceLink").params


def test_the_first_payment_starts_the_subscription_and_each_renewal_grants_once(owner, monthly, fake_telegram,
                                                                                 audit_passes):
    first, paid = first_payment(owner, monthly, fake_telegram)

    subscription = Subscription.objects.get()
    assert first.subscription == subscription
    assert (subscription.user, subscription.pack, subscription.status) == (owner, monthly, "active")
    assert subscription.telegram_payment_charge_id == paid["telegram_payment_charge_id"]
    assert subscription.expires_at == datetime.fromtimestamp(paid["subscription_expiration_date"], tz=UTC)

    renewal_paid = fake_telegram.stars.renewal(paid["telegram_payment_charge_id"])
    renewal = confirm(owner, renewal_paid)
    assert confirm(owner, renewal_paid) == renewal  # delivered again

    assert renewal.pk != first.pk
    assert (renewal.subscription, renewal.status, renewal.credits, renewal.invoice_payload) == (
        subscription, "paid", 500, first.invoice_payload)
    subscription.refresh_from_db()
    assert subscription.expires_at == datetime.fromtimestamp(renewal_paid["subscription_expiration_date"], tz=UTC)
    assert grants(owner) == [500, 500]
    owner.refresh_from_db()
    assert owner.credits == 1000


def test_a_renewal_for_another_amount_is_left_to_staff(owner, monthly, fake_telegram, audit_passes):
    _first, paid = first_payment(owner, monthly, fake_telegram)
    renewal_paid = fake_telegram.stars.renewal(paid["telegram_payment_charge_id"])

    with pytest.raises(PaymentNotMatched):
        confirm(owner, {**renewal_paid, "total_amount": 1})

    assert PaymentIssue.objects.get().reason == "wrong_amount"
    assert grants(owner) == [500]


@pytest.mark.django_db(transaction=True)
def test_a_renewal_delivered_three_times_at_once_grants_once(owner, monthly, fake_telegram, audit_passes):
    _first, paid = first_payment(owner, monthly, fake_telegram)
    renewal_paid = fake_telegram.stars.renewal(paid["telegram_payment_charge_id"])

    renewals = run_in_threads(3, lambda i: confirm(owner, renewal_paid))

    assert len({renewal.pk for renewal in renewals}) == 1, renewals
    assert grants(owner) == [500, 500]
    assert Payment.objects.filter(subscription__isnull=False).count() == 2


def test_the_user_lists_and_cancels_their_subscription_and_the_paid_period_stays(
        owner, owner_client, stranger_client, monthly, fake_telegram, audit_passes):
    _first, paid = first_payment(owner, monthly, fake_telegram)
    subscription = Subscription.objects.get()

    page = owner_client.get("/api/subscriptions").json()
    (item,) = page["results"]
    assert (item["id"], item["pack"], item["status"], item["credits"], item["stars"], item["period_days"]) == (
        subscription.pk, "monthly", "active", 500, 300, 30)
    assert stranger_client.get("/api/subscriptions").json()["results"] == []
    assert stranger_client.post(f"/api/subscriptions/{subscription.pk}/cancel").status_code == 404
    assert owner_client.post("/api/subscriptions/99999999999999999999/cancel").status_code == 404
    assert not fake_telegram.calls_to("editUserStarSubscription")

    response = owner_client.post(f"/api/subscriptions/{subscription.pk}/cancel")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert response.json()["expires_at"] == item["expires_at"]  # the paid period stays
    call = fake_telegram.last("editUserStarSubscription")
    assert call.params == {"user_id": owner.telegram_id, "is_canceled": True,
                           "telegram_payment_charge_id": paid["telegram_payment_charge_id"]}
    assert fake_telegram.stars.subscription(paid["telegram_payment_charge_id"])["canceled"] is True
    with pytest.raises(AssertionError, match="does not renew"):
        fake_telegram.stars.renewal(paid["telegram_payment_charge_id"])  # no more renewals
    assert owner_client.post(f"/api/subscriptions/{subscription.pk}/cancel").status_code == 200
    assert len(fake_telegram.calls_to("editUserStarSubscription")) == 1  # already cancelled: not asked again
    owner.refresh_from_db()
    assert owner.credits == 500


def test_an_ended_subscription_says_so(owner, owner_client, monthly, fake_telegram):
    first_payment(owner, monthly, fake_telegram)
    Subscription.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert owner_client.get("/api/subscriptions").json()["results"][0]["status"] == "expired"


@pytest.mark.parametrize("error_code, status, code", [
    (500, 503, "PAYMENT_PROVIDER_UNAVAILABLE"),
    (400, 409, "SUBSCRIPTION_NOT_CANCELLABLE"),
])
def test_when_telegram_does_not_cancel_nothing_changes(owner, owner_client, monthly, fake_telegram, error_code,
                                                       status, code):
    first_payment(owner, monthly, fake_telegram)
    subscription = Subscription.objects.get()
    fake_telegram.fail("editUserStarSubscription", error_code=error_code, description="Some error")

    response = owner_client.post(f"/api/subscriptions/{subscription.pk}/cancel")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Subscription.objects.get().status == "active"


def test_staff_with_the_permission_cancel_in_the_admin(owner, staff_user, monthly, fake_telegram, audit_passes):
    first_payment(owner, monthly, fake_telegram)
    subscription = Subscription.objects.get()
    viewer = User.objects.create_user(email="viewer@example.com", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    client = Client()
    client.force_login(viewer)
    page = client.get("/admin/payments/subscription/")
    assert page.status_code == 200 and b'value="cancel"' not in page.content
    client.post("/admin/payments/subscription/", {"action": "cancel", "_selected_action": [subscription.pk]})
    assert Subscription.objects.get().status == "active"

    client.force_login(staff_user)
    assert client.get(f"/admin/payments/subscription/{subscription.pk}/change/").status_code == 200
    page = client.post("/admin/payments/subscription/", {"action": "cancel", "_selected_action": [subscription.pk]},
                       follow=True)

    assert b"cancelled" in page.content
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancelled_by) == ("cancelled", staff_user)


def test_the_audit_sees_a_subscription_payment_that_is_not_the_subscriptions(owner, stranger, monthly,
                                                                             fake_telegram):
    first, _paid = first_payment(owner, monthly, fake_telegram)
    assert not audit_run()["subscriptions"]
    Payment.objects.filter(pk=first.pk).update(credits=1)

    assert audit_run()["subscriptions"] == [
        f"payment {first.pk} of subscription {first.subscription_id} differs from it in user, payload, Stars or "
        f"credits"
    ]


def test_a_pack_changed_into_a_subscription_refuses_the_old_invoice(owner, pack, fake_telegram):
    from payments.services import payment_pre_checkout

    pending = PaymentFactory.create(user=owner, pack=pack)
    CreditPack.objects.filter(pk=pack.pk).update(period_days=30)

    ok, message = payment_pre_checkout(telegram_user_id=owner.telegram_id, payload=pending.invoice_payload,
                                       currency="XTR", total_amount=pack.stars)
    assert not ok and "no longer sold on these terms" in str(message)


@pytest.mark.parametrize("fields", [{"period_days": 7}, {"period_days": 30, "stars": 10001}])
def test_a_subscription_pack_has_telegrams_terms(fields):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CreditPack.objects.create(slug="odd", title="Odd", stars=fields.get("stars", 100), credits=10,
                                  period_days=fields["period_days"])


@pytest.mark.parametrize("period, ids", [
    (2592000, []), (300, ["payments.W002"]), (60, ["payments.W002"]), (86400, ["payments.E005"]),
])
def test_the_subscription_period_setting_is_checked(settings, period, ids):
    from payments.checks import payments_settings_check

    settings.STARS_SUBSCRIPTION_PERIOD_SECONDS = period
    assert [message.id for message in payments_settings_check()] == ids
