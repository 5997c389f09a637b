"""A Stars refund takes the credits back BEFORE Telegram is asked, under the buyer's
row lock, and gives them back exactly once if Telegram refuses. Real threads and a
slow fake refundStarPayment reproduce the race a review found: the buyer spending
the credits while Telegram was being asked, then getting them back."""

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.audit import audit_run
from accounts.models import CreditKind, CreditLedgerEntry
from accounts.services import credits_change
from generations.models import Generation
from payments.errors import RefundCreditsSpent, RefundInProgress, RefundProviderError
from payments.models import EarningsKind, Payment, ReferralAccount, ReferralEarningsEntry
from payments.services import payment_refund
from payments.services.refunds import _refund_hold, refund_call_lease
from tests.factories import AIModelFactory, GenerationFactory
from tests.helpers import credits_give

PRICE = 24  # five generations spend the pack's 120 credits


def ledger(kind: CreditKind) -> list[tuple[int, str]]:
    return list(CreditLedgerEntry.objects.filter(kind=kind).order_by("id").values_list("amount", "reference"))


def in_background(target: Callable[[], object]) -> Future:
    """Run `target` in a thread of its own (with its own database connection)."""

    def run() -> object:
        try:
            return target()
        finally:
            connection.close()

    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(run)
    executor.shutdown(wait=False)
    return future


def slow_refunds(fake_telegram) -> threading.Event:
    """refundStarPayment answers only when the returned event is set."""
    released = threading.Event()

    def answer(call):
        assert released.wait(60), "the test never released refundStarPayment"
        return True

    fake_telegram.respond("refundStarPayment", answer)
    return released


@pytest.mark.django_db(transaction=True)
def test_credits_spent_while_telegram_refunds_do_not_come_back(owner, owner_client, staff_user, pack, make_paid,
                                                                fake_telegram, audit_passes):
    model = AIModelFactory.create(price=PRICE)
    payment = make_paid(owner, pack)  # 120 credits
    released = slow_refunds(fake_telegram)

    refund = in_background(lambda: payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud"))
    fake_telegram.wait_for("refundStarPayment")
    # Telegram is being asked. The buyer tries to spend the pack on five generations...
    starts = [owner_client.post("/api/generations", {"model": model.slug, "prompt": f"spend {i}"}, format="json")
              for i in range(5)]
    released.set()
    result = refund.result(timeout=60)
    # ... and afterwards cancels whatever they started, to get the credits back.
    for generation in Generation.objects.filter(user=owner):
        owner_client.post(f"/api/generations/{generation.pk}/cancel")

    assert [response.status_code for response in starts] == [402] * 5
    owner.refresh_from_db()
    payment.refresh_from_db()
    assert owner.credits == 0
    assert (payment.status, payment.refund_credits_removed, payment.refund_forced) == ("refunded", 120, False)
    assert (result.credits_removed, result.credits_short) == (120, 0)


@pytest.mark.django_db(transaction=True)
def test_live_generations_count_as_unspent_and_are_cancelled_first(owner, staff_user, pack, make_paid, fake_telegram,
                                                                    audit_passes):
    model = AIModelFactory.create(price=PRICE)
    payment = make_paid(owner, pack)
    older, newer, newest = (GenerationFactory.create(user=owner, model=model) for _ in range(3))  # 120 - 72 = 48 left
    Generation.objects.filter(pk=older.pk).update(status=Generation.Status.COMPLETED)  # spent for good

    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud", force=True)

    statuses = dict(Generation.objects.values_list("pk", "status"))
    assert statuses == {older.pk: "completed", newer.pk: "cancelled", newest.pk: "cancelled"}
    assert result.generations_cancelled == 2
    assert (result.credits_removed, result.credits_short) == (96, 24)  # the completed one stays spent
    owner.refresh_from_db()
    assert owner.credits == 0


@pytest.mark.django_db
def test_only_as_many_live_generations_as_needed_are_cancelled(owner, staff_user, pack, make_paid, fake_telegram,
                                                               audit_passes):
    model = AIModelFactory.create(price=PRICE)
    payment = make_paid(owner, pack)
    first, second = GenerationFactory.create(user=owner, model=model), GenerationFactory.create(user=owner, model=model)
    credits_give(owner, 30)  # 120 - 48 + 30 = 102: one cancel (24) covers the 18 missing

    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="asked for it")

    assert dict(Generation.objects.values_list("pk", "status")) == {first.pk: "pending", second.pk: "cancelled"}
    assert (result.generations_cancelled, result.credits_removed) == (1, 120)
    owner.refresh_from_db()
    assert owner.credits == 6


@pytest.mark.django_db
def test_spent_credits_still_refuse_the_refund_and_cancel_nothing(owner, staff_user, pack, make_paid, fake_telegram,
                                                                  audit_passes):
    model = AIModelFactory.create(price=PRICE)
    payment = make_paid(owner, pack)
    live = GenerationFactory.create(user=owner, model=model)
    Generation.objects.filter(pk=GenerationFactory.create(user=owner, model=model).pk).update(status="completed")

    with pytest.raises(RefundCreditsSpent):
        payment_refund(payment_id=payment.pk, staff=staff_user, reason="asked for it")

    live.refresh_from_db()
    owner.refresh_from_db()
    assert live.status == "pending" and owner.credits == 72
    assert not fake_telegram.calls_to("refundStarPayment")


@pytest.mark.django_db
def test_a_telegram_refusal_returns_everything_once_and_a_later_try_works(referred_owner, referrer, staff_user, pack,
                                                                         make_paid, fake_telegram, audit_passes):
    payment = make_paid(referred_owner, pack)  # +120 credits, +10 Stars commission
    fake_telegram.fail("refundStarPayment", error_code=400, description="Bad Request: BALANCE_TOO_LOW")

    with pytest.raises(RefundProviderError, match="BALANCE_TOO_LOW"):
        payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud")

    payment.refresh_from_db()
    referred_owner.refresh_from_db()
    assert (payment.status, payment.refund_credits_removed, payment.refund_attempts) == ("paid", 0, 1)
    assert referred_owner.credits == 120
    assert ReferralAccount.objects.get(user=referrer).earnings == 10
    reference = f"payment:{payment.pk}"
    assert ledger(CreditKind.PURCHASE_REFUND) == [(-120, reference)]
    assert ledger(CreditKind.PURCHASE_REFUND_UNDONE) == [(120, reference)]
    assert ReferralEarningsEntry.objects.filter(kind=EarningsKind.COMMISSION_REVERSAL_UNDONE, amount=10).count() == 1
    assert not audit_problems()

    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud, second try")

    assert (result.credits_removed, result.earnings_reversed) == (120, 10)
    assert ledger(CreditKind.PURCHASE_REFUND) == [(-120, reference), (-120, f"{reference}:2")]
    referred_owner.refresh_from_db()
    assert referred_owner.credits == 0
    assert ReferralAccount.objects.get(user=referrer).earnings == 0


@pytest.mark.django_db
def test_no_answer_from_telegram_keeps_the_hold_until_the_refund_is_run_again(owner, staff_user, pack, make_paid,
                                                                             fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    fake_telegram.fail("refundStarPayment", error_code=502, description="Bad Gateway")

    with pytest.raises(RefundProviderError, match="run the refund again"):
        payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud")

    # Telegram may have refunded: the credits stay taken back, consistently.
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert (payment.status, payment.refund_credits_removed, owner.credits) == ("refunding", 120, 0)
    assert not audit_problems()

    fake_telegram.fail("refundStarPayment", description="Bad Request: CHARGE_ALREADY_REFUNDED")
    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="again")

    assert result.already_refunded_by_telegram and result.credits_removed == 120
    assert ledger(CreditKind.PURCHASE_REFUND) == [(-120, f"payment:{payment.pk}")]
    payment.refresh_from_db()
    assert payment.status == "refunded" and payment.refund_reason == "fraud"


@pytest.mark.django_db
def test_a_refund_whose_process_died_is_resumed_once_its_call_cannot_be_in_flight(owner, staff_user, pack, make_paid,
                                                                                  fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    # As if the process died right after the hold committed, before Telegram answered.
    _refund_hold(payment_id=payment.pk, staff=staff_user, reason="fraud", force=False)
    owner.refresh_from_db()
    assert owner.credits == 0

    with pytest.raises(RefundInProgress):  # its call could still be in flight
        payment_refund(payment_id=payment.pk, staff=staff_user, reason="again")
    assert not fake_telegram.calls_to("refundStarPayment")

    Payment.objects.filter(pk=payment.pk).update(
        refund_call_started_at=timezone.now() - refund_call_lease() - timedelta(seconds=1)
    )
    payment_refund(payment_id=payment.pk, staff=staff_user, reason="again")

    payment.refresh_from_db()
    assert payment.status == "refunded" and len(fake_telegram.calls_to("refundStarPayment")) == 1
    assert ledger(CreditKind.PURCHASE_REFUND) == [(-120, f"payment:{payment.pk}")]


@pytest.mark.django_db
def test_audit_reports_a_refund_that_left_credits_without_refund_anyway(owner, staff_user, pack, make_paid,
                                                                        fake_telegram):
    payment = make_paid(owner, pack)
    credits_change(user_id=owner.pk, amount=-100, kind=CreditKind.GRANT, note="spent")
    payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud", force=True)
    assert not audit_problems()

    # What the race left behind: refunded, not forced, yet not every credit taken back.
    Payment.objects.filter(pk=payment.pk).update(refund_forced=False)

    problems = audit_problems()
    assert any(f"refunded payment {payment.pk}: only 20 of its 120 credits" in line
               for lines in problems.values() for line in lines), problems


def audit_problems() -> dict:
    return {check: found for check, found in audit_run().items() if found}
