"""`credits_debit_if_enough` + `credits_ledger_record`: a debit that is its own lock,
exact under concurrency, and that never leaves a balance without its ledger row."""

import pytest
from django.db import transaction
from django.db.models import Subquery, Value
from django.db.transaction import TransactionManagementError

from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.services import Debit, credits_debit_if_enough, credits_ledger_record
from tests.helpers import credits_give, run_in_threads


def _debit_and_record(user_id: int, amount, reference: str) -> Debit | None:
    with transaction.atomic():
        debit = credits_debit_if_enough(user_id=user_id, amount=amount)
        if debit is not None:
            credits_ledger_record(user_id=user_id, amount=-debit.amount, kind=CreditKind.GENERATION_CHARGE,
                                  balance_after=debit.balance_after, reference=reference)
        return debit


@pytest.mark.django_db
def test_debit_returns_what_it_took_and_the_balance_it_left(owner, audit_passes):
    credits_give(owner, 10)
    assert _debit_and_record(owner.pk, 4, "a") == Debit(amount=4, balance_after=6)
    assert _debit_and_record(owner.pk, 6, "b") == Debit(amount=6, balance_after=0)
    owner.refresh_from_db()
    assert owner.credits == 0
    assert list(CreditLedgerEntry.objects.filter(user=owner).order_by("id").values_list("amount", "balance_after")) == [
        (10, 10), (-4, 6), (-6, 0)
    ]


@pytest.mark.django_db
def test_an_amount_from_a_subquery_is_evaluated_in_the_statement(owner, stranger, audit_passes):
    """Any one-value expression works, e.g. a value read from another row."""
    credits_give(owner, 10)
    credits_give(stranger, 3)
    amount = Subquery(User.objects.filter(pk=stranger.pk).values("credits"))
    assert _debit_and_record(owner.pk, amount, "a") == Debit(amount=3, balance_after=7)
    assert _debit_and_record(owner.pk, Value(7), "b") == Debit(amount=7, balance_after=0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "amount",
    [11, Value(11), Subquery(User.objects.filter(pk=-1).values("credits")), Value(0), Value(-5)],
    ids=["short", "short expression", "subquery without a row", "zero expression", "negative expression"],
)
def test_no_debit_changes_nothing(owner, audit_passes, amount):
    credits_give(owner, 10)
    assert _debit_and_record(owner.pk, amount, "a") is None
    owner.refresh_from_db()
    assert owner.credits == 10
    assert CreditLedgerEntry.objects.filter(user=owner).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -1])
def test_an_int_amount_must_be_positive(owner, amount):
    with pytest.raises(ValueError, match="positive"), transaction.atomic():
        credits_debit_if_enough(user_id=owner.pk, amount=amount)


@pytest.mark.django_db
def test_an_unknown_user_is_not_debited():
    with transaction.atomic():
        assert credits_debit_if_enough(user_id=-1, amount=1) is None


@pytest.mark.django_db(transaction=True)
def test_both_refuse_to_run_outside_a_transaction(owner):
    credits_give(owner, 10)
    with pytest.raises(TransactionManagementError):
        credits_debit_if_enough(user_id=owner.pk, amount=1)
    with pytest.raises(TransactionManagementError):
        credits_ledger_record(user_id=owner.pk, amount=-1, kind=CreditKind.GRANT, balance_after=9)
    owner.refresh_from_db()
    assert owner.credits == 10
    assert CreditLedgerEntry.objects.filter(user=owner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_threads_racing_twenty_credits_debit_exactly_twenty(owner, audit_passes):
    credits_give(owner, 20)

    results = run_in_threads(50, lambda i: _debit_and_record(owner.pk, 1, f"race:{i}"))

    debits = [result for result in results if isinstance(result, Debit)]
    assert len(debits) == 20, results
    assert results.count(None) == 30
    # Serialised by the row lock: each debit saw the balance the previous one left.
    assert sorted(debit.balance_after for debit in debits) == list(range(20))
    owner.refresh_from_db()
    assert owner.credits == 0
