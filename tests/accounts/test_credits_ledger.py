"""The money rules of the credit ledger, on PostgreSQL with real threads."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from accounts.errors import InsufficientCredits
from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.services import credits_change
from tests.helpers import credits_give, run_in_threads


@pytest.mark.django_db(transaction=True)
def test_fifty_threads_racing_twenty_debits_make_exactly_twenty(owner, audit_passes):
    credits_give(owner, 20)

    def debit(i: int) -> str:
        try:
            credits_change(user_id=owner.pk, amount=-1, kind=CreditKind.GENERATION_CHARGE, reference=f"race:{i}")
        except InsufficientCredits:
            return "refused"
        return "debited"

    results = run_in_threads(50, debit)
    assert results.count("debited") == 20
    assert results.count("refused") == 30
    owner.refresh_from_db()
    assert owner.credits == 0
    debits = CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.GENERATION_CHARGE)
    assert debits.count() == 20
    assert sum(CreditLedgerEntry.objects.filter(user=owner).values_list("amount", flat=True)) == 0


@pytest.mark.django_db
def test_balance_after_follows_every_change(owner):
    credits_give(owner, 10)
    credits_change(user_id=owner.pk, amount=-3, kind=CreditKind.GRANT)
    credits_change(user_id=owner.pk, amount=5, kind=CreditKind.GRANT)
    balances = CreditLedgerEntry.objects.filter(user=owner).order_by("id").values_list("balance_after", flat=True)
    assert list(balances) == [10, 7, 12]


@pytest.mark.django_db
def test_debit_beyond_balance_changes_nothing(owner):
    credits_give(owner, 3)
    with pytest.raises(InsufficientCredits) as info:
        credits_change(user_id=owner.pk, amount=-4, kind=CreditKind.GRANT)
    assert info.value.details == {"balance": 3, "price": 4}
    owner.refresh_from_db()
    assert owner.credits == 3
    assert CreditLedgerEntry.objects.filter(user=owner).count() == 1


@pytest.mark.django_db
def test_database_refuses_a_negative_balance(owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=owner.pk).update(credits=-1)


@pytest.mark.django_db
def test_database_refuses_a_second_refund_for_one_cause(owner):
    credits_change(user_id=owner.pk, amount=5, kind=CreditKind.GENERATION_REFUND, reference="generation:1")
    with pytest.raises(IntegrityError), transaction.atomic():
        credits_change(user_id=owner.pk, amount=5, kind=CreditKind.GENERATION_REFUND, reference="generation:1")


@pytest.mark.django_db
def test_audit_passes_on_a_consistent_ledger(owner, stranger, capsys):
    credits_give(owner, 7)
    call_command("audit_ledger")
    assert "All money rules hold" in capsys.readouterr().out


@pytest.mark.django_db
def test_audit_catches_a_balance_changed_behind_the_ledgers_back(owner, stranger, capsys):
    credits_give(owner, 7)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET credits = credits + 100 WHERE id = %s", [owner.pk])
    with pytest.raises(CommandError):
        call_command("audit_ledger")
    out = capsys.readouterr().out
    assert f"user {owner.pk}" in out and "balance 107 != ledger sum 7" in out
    assert f"user {stranger.pk}" not in out


@pytest.mark.django_db
def test_audit_ledger_failure_exits_with_status_1(owner):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET credits = 5 WHERE id = %s", [owner.pk])
    with pytest.raises(CommandError) as info:
        call_command("audit_ledger")
    assert info.value.returncode == 1


class TestGrantCredits:
    pytestmark = pytest.mark.django_db

    def test_grant_adds_through_the_ledger(self, owner, capsys, audit_passes):
        call_command("grant_credits", str(owner.telegram_id), "50", "--reason", "promo")
        owner.refresh_from_db()
        assert owner.credits == 50
        entry = CreditLedgerEntry.objects.get(user=owner)
        assert (entry.amount, entry.kind, entry.note) == (50, CreditKind.GRANT, "promo")

    def test_negative_removes_but_never_below_zero(self, owner, capsys, audit_passes):
        credits_give(owner, 30)
        call_command("grant_credits", str(owner.telegram_id), "-100", "--reason", "abuse")
        owner.refresh_from_db()
        assert owner.credits == 0
        assert "Removed 30 of the 100 requested" in capsys.readouterr().out

    def test_removing_from_an_empty_balance_is_an_error(self, owner):
        with pytest.raises(CommandError, match="no credits to remove"):
            call_command("grant_credits", str(owner.telegram_id), "-5", "--reason", "x")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["424242", "5", "--reason", "x"], "No user with Telegram id 424242"),
            (["{owner}", "0", "--reason", "x"], "must not be 0"),
            (["{owner}", "5", "--reason", "  "], "must not be empty"),
        ],
    )
    def test_bad_arguments_are_clear_errors(self, owner, args, message):
        args = [a.format(owner=owner.telegram_id) for a in args]
        with pytest.raises(CommandError, match=message):
            call_command("grant_credits", *args)
        assert not CreditLedgerEntry.objects.exists()

    @pytest.mark.parametrize("args", [["abc", "5", "--reason", "x"], ["1", "five", "--reason", "x"], ["1", "5"]])
    def test_unparseable_arguments_are_refused(self, owner, args):
        with pytest.raises(CommandError):
            call_command("grant_credits", *args)
