"""`reconcile_stars`: Telegram's Stars transactions (the fake's getStarTransactions)
against the payments: a charge whose update was lost is credited, a payment that is
not ours is recorded for staff, a refund made outside is booked, affiliate
commissions are recorded; a second run finds nothing; --dry-run writes nothing."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from accounts.models import CreditKind, CreditLedgerEntry
from core.task_names import STARS_RECONCILE_DAILY
from payments.apps import RECONCILE_SCHEDULE_NAME
from payments.models import Payment, PaymentIssue, StarsReconciliation, Subscription
from payments.services import payment_confirm
from payments.services.reconciliation import ReconciliationBusy, stars_reconcile
from tests.factories import CreditPackFactory, PaymentFactory
from tests.fakes.telegram_updates import telegram_profile
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db

DAY = 86400


def reconcile(*args: str) -> str:
    out = io.StringIO()
    call_command("reconcile_stars", *args, stdout=out)
    return out.getvalue()


def confirmed(user, paid: dict) -> Payment:
    """The bot received the successful_payment of this charge."""
    return payment_confirm(telegram_user_id=user.telegram_id, payload=paid["invoice_payload"], currency="XTR",
                           total_amount=paid["total_amount"],
                           telegram_payment_charge_id=paid["telegram_payment_charge_id"])


def purchases(user) -> int:
    return CreditLedgerEntry.objects.filter(user=user, kind=CreditKind.PURCHASE).count()


def test_a_charge_whose_update_was_lost_is_credited_and_a_second_run_finds_nothing(
        owner, pack, fake_telegram, audit_passes):
    profile = telegram_profile(owner.telegram_id)
    seen = PaymentFactory.create(user=owner, pack=pack)
    confirmed(owner, fake_telegram.stars.payment(profile, payload=seen.invoice_payload, amount=100))
    lost = PaymentFactory.create(user=owner, pack=pack)
    paid = fake_telegram.stars.payment(profile, payload=lost.invoice_payload, amount=100)
    charge = paid["telegram_payment_charge_id"]

    out = reconcile("--days", "3")

    lost.refresh_from_db()
    assert (lost.status, lost.telegram_payment_charge_id) == ("paid", charge)
    assert purchases(owner) == 2
    assert "Stars transactions of the last 3 days: 2 read" in out
    assert f"paid to us, never credited: 1\n  - {charge}: 100 Stars, Telegram user {owner.telegram_id}" in out
    assert f"-> payment {lost.pk}" in out
    run = StarsReconciliation.objects.get()
    assert (run.status, run.transactions, run.credited, run.unresolved) == ("done", 2, 1, 0)
    assert run.report["findings"][0]["charge_id"] == charge

    again = reconcile("--days", "3")
    assert "Nothing to reconcile" in again
    assert purchases(owner) == 2
    assert StarsReconciliation.objects.count() == 2


def test_dry_run_writes_nothing(owner, pack, fake_telegram):
    lost = PaymentFactory.create(user=owner, pack=pack)
    fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload=lost.invoice_payload, amount=100)

    out = reconcile("--dry-run")

    assert "would credit" in out and "dry run: nothing was written" in out
    assert Payment.objects.get(pk=lost.pk).status == "pending"
    assert not StarsReconciliation.objects.exists()
    assert not CreditLedgerEntry.objects.exists()


def test_stars_for_an_invoice_that_is_not_ours_are_left_to_staff(owner, fake_telegram, audit_passes):
    charge = fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload="someone-elses-payload",
                                         amount=77)["telegram_payment_charge_id"]

    out = reconcile()

    issue = PaymentIssue.objects.get(telegram_payment_charge_id=charge)
    assert (issue.reason, issue.status, issue.total_amount, issue.user) == ("bad_payload", "open", 77, owner)
    assert f"paid for an invoice that is not ours: 1\n  - {charge}" in out and f"-> issue {issue.pk}" in out
    assert StarsReconciliation.objects.get().unresolved == 1
    assert "Nothing to reconcile" in reconcile()


def test_a_refund_made_outside_is_booked_once(referred_owner, referrer, pack, fake_telegram, audit_passes):
    profile = telegram_profile(referred_owner.telegram_id)
    pending = PaymentFactory.create(user=referred_owner, pack=pack)
    paid = fake_telegram.stars.payment(profile, payload=pending.invoice_payload, amount=100)
    payment = confirmed(referred_owner, paid)
    fake_telegram.stars.refund_outside(paid["telegram_payment_charge_id"])  # its refunded_payment was lost

    out = reconcile()

    payment.refresh_from_db()
    assert (payment.status, payment.refunded_outside, payment.refund_credits_removed) == ("refunded", True, 120)
    assert "found by reconcile_stars" in payment.refund_reason
    assert f"refunded by Telegram, not booked: 1\n  - {paid['telegram_payment_charge_id']}" in out
    assert StarsReconciliation.objects.get().refunds == 1
    assert "Nothing to reconcile" in reconcile()


def test_a_lost_payment_refunded_in_the_same_period_is_credited_then_taken_back(owner, pack, fake_telegram,
                                                                                audit_passes):
    pending = PaymentFactory.create(user=owner, pack=pack)
    paid = fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload=pending.invoice_payload,
                                       amount=100)
    fake_telegram.stars.refund_outside(paid["telegram_payment_charge_id"])

    reconcile()

    pending.refresh_from_db()
    owner.refresh_from_db()
    assert (pending.status, owner.credits) == ("refunded", 0)
    assert "Nothing to reconcile" in reconcile()


def test_a_refund_of_a_charge_never_seen_is_recorded_once(owner, fake_telegram):
    fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload="x", amount=5, charge_id="stxOLD",
                                date=int(time.time()) - 30 * DAY)  # before the period
    fake_telegram.stars.refund_outside("stxOLD")

    out = reconcile("--days", "3")

    assert "unknown charge, recorded as settled issue" in out
    assert PaymentIssue.objects.get(telegram_payment_charge_id="stxOLD").status == "refunded"
    assert "Nothing to reconcile" in reconcile("--days", "3")


def test_affiliate_commissions_are_recorded_so_revenue_is_net(owner, pack, fake_telegram, audit_passes):
    profile = telegram_profile(owner.telegram_id)
    affiliate = {"affiliate_user": {"id": 4242, "is_bot": False, "first_name": "Aff"}, "commission_per_mille": 200,
                 "amount": 20}
    seen = PaymentFactory.create(user=owner, pack=pack)
    paid = confirmed(owner, fake_telegram.stars.payment(profile, payload=seen.invoice_payload, amount=100,
                                                        affiliate=affiliate))
    lost = PaymentFactory.create(user=owner, pack=pack)
    # The transaction lists 80 (what the bot kept): matched with the affiliate's 20 to the price.
    fake_telegram.stars.payment(profile, payload=lost.invoice_payload, amount=100, affiliate=affiliate)

    reconcile()

    for payment in (paid, lost):
        payment.refresh_from_db()
        assert (payment.status, payment.affiliate, payment.affiliate_commission) == ("paid", "user 4242", 20)
    assert StarsReconciliation.objects.get().affiliate_commissions == 1
    assert "Nothing to reconcile" in reconcile()

    from ops.selectors.dashboard import Period, stars_per_day

    day = stars_per_day(period=Period.last_days(1))
    (today,) = day.values()
    assert (today.received, today.affiliate, today.net) == (200, 40, 160)


def test_a_subscription_renewal_whose_update_was_lost_is_credited_as_a_renewal(owner, fake_telegram, audit_passes):
    monthly = CreditPackFactory.create(slug="monthly", title="Monthly", stars=300, credits=500, period_days=30)
    pending = PaymentFactory.create(user=owner, pack=monthly)
    first = fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload=pending.invoice_payload,
                                        amount=300, subscription_period=2592000)
    from tests.payments.test_subscriptions import confirm

    confirm(owner, first)
    fake_telegram.stars.renewal(first["telegram_payment_charge_id"])  # its update never arrived

    reconcile()

    subscription = Subscription.objects.get()
    assert subscription.payments.count() == 2
    assert purchases(owner) == 2
    assert "Nothing to reconcile" in reconcile()


@pytest.mark.parametrize("newest_first", [False, True])
def test_transactions_are_read_page_by_page_within_the_period(owner, pack, fake_telegram, newest_first):
    fake_telegram.stars.newest_first = newest_first
    profile = telegram_profile(owner.telegram_id)
    old = int(time.time()) - 10 * DAY
    for i in range(230):  # other bots' business, before the period
        fake_telegram.stars.payment(profile, payload=f"old-{i}", amount=1, date=old + i)
    lost = PaymentFactory.create(user=owner, pack=pack)
    fake_telegram.stars.payment(profile, payload=lost.invoice_payload, amount=100)

    reconcile("--days", "3")

    offsets = [(int(call["offset"]), int(call["limit"])) for call in fake_telegram.calls_to("getStarTransactions")]
    if newest_first:
        assert offsets == [(0, 100)]  # the first page already reaches back past the period
    else:
        assert offsets == [(0, 100), (100, 100), (200, 100)]  # chronological: read to the end
    assert Payment.objects.get(pk=lost.pk).status == "paid"
    assert not PaymentIssue.objects.exists()  # the old ones were outside the period


def test_telegram_unreachable_fails_the_run_visibly(owner, fake_telegram):
    fake_telegram.fail("getStarTransactions", error_code=502, description="Bad Gateway")

    with pytest.raises(CommandError, match="could not be read"):
        reconcile()
    run = StarsReconciliation.objects.get()
    assert run.status == "failed" and "getStarTransactions" in run.error


def test_runs_do_not_overlap(owner, fake_telegram):
    from django.db import connection

    from payments.services.reconciliation import _LOCK_KEY

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        results = run_in_threads(1, lambda i: stars_reconcile(days=1))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    assert isinstance(results[0], ReconciliationBusy)


@pytest.mark.django_db(transaction=True)
def test_a_run_next_to_the_live_payment_of_the_same_charge_credits_once(owner, pack, fake_telegram, audit_passes):
    pending = PaymentFactory.create(user=owner, pack=pack)
    paid = fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload=pending.invoice_payload,
                                       amount=100)

    results = run_in_threads(2, lambda i: stars_reconcile(days=1) if i else confirmed(owner, paid))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert purchases(owner) == 1
    assert Payment.objects.get(pk=pending.pk).status == "paid"


def test_the_daily_schedule_exists_once():
    schedule = Schedule.objects.get(name=RECONCILE_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == (STARS_RECONCILE_DAILY, Schedule.DAILY)


def test_the_daily_task_reconciles(owner, pack, fake_telegram, audit_passes):
    from payments.tasks import stars_reconcile_daily

    lost = PaymentFactory.create(user=owner, pack=pack)
    fake_telegram.stars.payment(telegram_profile(owner.telegram_id), payload=lost.invoice_payload, amount=100)

    assert stars_reconcile_daily() == {"transactions": 1, "credited": 1, "issues": 0, "unresolved": 0}
