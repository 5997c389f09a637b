"""End to end, Stars: `runbot` (webhook, two replicas) and a real `qcluster` on
PostgreSQL against the fake Bot API. Reconciliation credits a charge whose update was
dropped and books a refund whose message was dropped, and its second run changes
nothing; a subscription renewal delivered three times at once grants once; a cancel
stops the renewals."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from accounts.audit import audit_run
from accounts.models import CreditKind, CreditLedgerEntry
from core.task_names import STARS_RECONCILE_DAILY
from payments.apps import RECONCILE_SCHEDULE_NAME
from payments.models import Payment, StarsReconciliation, Subscription
from payments.services import payment_pending_create
from tests.factories import CreditPackFactory
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.helpers import api_client_for
from tests.telegram_bot.runbot import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def updates() -> TelegramUpdates:
    return TelegramUpdates(first_update_id=700_001)


def assert_audit_clean() -> None:
    problems = {check: found for check, found in audit_run().items() if found}
    assert not problems, problems


def purchases(user) -> int:
    return CreditLedgerEntry.objects.filter(user=user, kind=CreditKind.PURCHASE).count()


def test_reconciliation_by_the_worker_credits_a_dropped_charge_books_a_dropped_refund_then_finds_nothing(
        processes, fake_telegram, updates, owner, packs, audit_passes):
    bot = processes["bot"]()
    profile = telegram_profile(owner.telegram_id, first_name="Owner")

    def pay(*, deliver: bool) -> tuple[Payment, dict]:
        pending = payment_pending_create(user=owner, pack_slug="small")
        paid = fake_telegram.stars.payment(profile, payload=pending.invoice_payload, amount=pending.stars)
        if deliver:
            assert bot.post(updates.stars_payment(profile, paid)).status_code == 200
            wait_until(lambda: Payment.objects.get(pk=pending.pk).status == "paid", what="the payment")
        return pending, paid

    pay(deliver=True)
    dropped, _ = pay(deliver=False)  # Telegram's update never reached the bot
    refunded, refunded_paid = pay(deliver=True)
    fake_telegram.stars.refund_outside(refunded_paid["telegram_payment_charge_id"])  # its message was lost too
    # The daily run's schedule (made due by the migrations) would start a run of its own
    # when the worker looks at the schedules, and be taken for one of the test's runs.
    Schedule.objects.filter(name=RECONCILE_SCHEDULE_NAME).update(next_run=timezone.now() + timedelta(days=1))
    processes["worker"]()

    async_task(STARS_RECONCILE_DAILY)
    wait_until(lambda: StarsReconciliation.objects.filter(status="done").exists(), seconds=60,
               what="the worker's reconciliation")

    run = StarsReconciliation.objects.get()
    assert (run.transactions, run.credited, run.refunds, run.issues, run.unresolved) == (4, 1, 1, 0, 0)
    assert Payment.objects.get(pk=dropped.pk).status == "paid"
    refunded.refresh_from_db()
    assert (refunded.status, refunded.refunded_outside) == ("refunded", True)
    owner.refresh_from_db()
    assert owner.credits == 2 * 60  # three packs paid, one of them refunded
    assert_audit_clean()

    async_task(STARS_RECONCILE_DAILY)
    wait_until(lambda: StarsReconciliation.objects.filter(status="done").count() == 2, seconds=60,
               what="the second reconciliation")
    second = StarsReconciliation.objects.order_by("-id").first()
    assert (second.transactions, second.credited, second.refunds, second.report) == (4, 0, 0, {"findings": []})
    owner.refresh_from_db()
    assert owner.credits == 120 and purchases(owner) == 3


def test_a_renewal_delivered_three_times_at_once_grants_once_and_a_cancel_stops_renewals(
        processes, fake_telegram, updates, owner, audit_passes):
    CreditPackFactory.create(slug="monthly", title="Monthly", stars=300, credits=500, period_days=30)
    bots = [processes["bot"](), processes["bot"]()]  # two replicas behind Telegram's webhook
    profile = telegram_profile(owner.telegram_id, first_name="Owner")
    client = api_client_for(owner.telegram_id, first_name="Owner")

    invoice = client.post("/api/payments/invoice", {"pack": "monthly"}, format="json")
    assert invoice.status_code == 201, invoice.json()
    assert fake_telegram.last("createInvoiceLink")["subscription_period"] == 2592000
    payment = Payment.objects.get(pk=invoice.json()["payment_id"])
    first = fake_telegram.stars.payment(profile, payload=payment.invoice_payload, amount=300,
                                        subscription_period=2592000)
    assert bots[0].post(updates.stars_payment(profile, first)).status_code == 200
    wait_until(lambda: Subscription.objects.exists(), what="the subscription")

    renewal = fake_telegram.stars.renewal(first["telegram_payment_charge_id"])
    deliveries = [updates.stars_payment(profile, renewal) for _ in range(3)]  # three updates, one charge
    barrier = threading.Barrier(3)
    answers: list[int] = []

    def deliver(i: int) -> None:
        barrier.wait()
        answers.append(bots[i % 2].post(deliveries[i]).status_code)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [200, 200, 200]
    wait_until(lambda: len(fake_telegram.calls_to("sendMessage")) >= 4, what="every delivery answered")

    subscription = Subscription.objects.get()
    assert subscription.payments.count() == 2
    assert purchases(owner) == 2
    owner.refresh_from_db()
    assert owner.credits == 1000
    assert subscription.expires_at == datetime.fromtimestamp(renewal["subscription_expiration_date"], tz=UTC)
    assert_audit_clean()

    cancel = client.post(f"/api/subscriptions/{subscription.pk}/cancel")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert fake_telegram.stars.subscription(first["telegram_payment_charge_id"])["canceled"]
    with pytest.raises(AssertionError, match="does not renew"):
        fake_telegram.stars.renewal(first["telegram_payment_charge_id"])
    listed = client.get("/api/subscriptions").json()["results"]
    assert [(item["status"], item["expires_at"]) for item in listed] == [("cancelled", cancel.json()["expires_at"])]
