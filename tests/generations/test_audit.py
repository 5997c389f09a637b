"""`audit_ledger` checks every generation's money: one charge, one refund exactly when
failed or cancelled, the `refunded` flag, the user; and it catches each way of breaking it."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import CreditKind, CreditLedgerEntry
from accounts.services import credits_change
from generations.audit import generation_money_rule
from generations.models import AIModel, Generation
from generations.services import generation_cancel_if_active, generation_complete, generation_fail
from tests.factories import AIModelFactory, GenerationFactory

pytestmark = pytest.mark.django_db
Status = Generation.Status


@pytest.fixture
def model(db):
    return AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=5)


def problems() -> list[str]:
    return list(generation_money_rule())


def test_every_lifecycle_end_passes(owner, stranger, model, capsys):
    pending = GenerationFactory.create(user=owner, model=model)
    completed = GenerationFactory.create(user=owner, model=model)
    Generation.objects.filter(pk=completed.pk).update(status=Status.PROCESSING)
    generation_complete(generation_id=completed.pk, result_file="generations/x.png", content_type="image/png")
    failed = GenerationFactory.create(user=stranger, model=model)
    generation_fail(generation_id=failed.pk, error_code="TIMEOUT", error_message="late")
    cancelled = GenerationFactory.create(user=stranger, model=model)
    generation_cancel_if_active(generation_id=cancelled.pk)
    assert pending.status == Status.PENDING

    assert problems() == []
    call_command("audit_ledger")
    assert "generation refunds: ok" in capsys.readouterr().out


def test_a_failed_generation_without_its_refund_is_reported(owner, model):
    generation = GenerationFactory.create(user=owner, model=model)
    # Failed and marked refunded, but the credits never came back.
    Generation.objects.filter(pk=generation.pk).update(status=Status.FAILED, refunded=True)

    assert problems() == [
        f"generation {generation.pk} (failed, price 5): 0 refund(s) totalling 0 (expected one of 5)"
    ]
    with pytest.raises(CommandError):
        call_command("audit_ledger")


def test_a_double_refund_is_reported(owner, model):
    generation = GenerationFactory.create(user=owner, model=model)
    generation_cancel_if_active(generation_id=generation.pk)
    # The database refuses a second refund row (unique kind + reference); drop that
    # guard inside this test's transaction to show the audit would catch one anyway.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX ledger_once_per_reference")  # a partial unique constraint is an index
    credits_change(user_id=owner.pk, amount=5, kind=CreditKind.GENERATION_REFUND,
                   reference=f"generation:{generation.pk}")

    assert problems() == [
        f"generation {generation.pk} (cancelled, price 5): 2 refund(s) totalling 10 (expected one of 5)"
    ]


def test_a_refund_of_a_completed_generation_is_reported(owner, model):
    generation = GenerationFactory.create(user=owner, model=model)
    Generation.objects.filter(pk=generation.pk).update(status=Status.COMPLETED)
    credits_change(user_id=owner.pk, amount=5, kind=CreditKind.GENERATION_REFUND,
                   reference=f"generation:{generation.pk}")

    assert problems() == [
        f"generation {generation.pk} (completed, price 5): 1 refund(s) totalling 5 (expected none)"
    ]


def test_a_refund_of_the_wrong_amount_is_reported(owner, model):
    generation = GenerationFactory.create(user=owner, model=model)
    Generation.objects.filter(pk=generation.pk).update(status=Status.FAILED, refunded=True)
    credits_change(user_id=owner.pk, amount=3, kind=CreditKind.GENERATION_REFUND,
                   reference=f"generation:{generation.pk}")

    assert problems() == [
        f"generation {generation.pk} (failed, price 5): 1 refund(s) totalling 3 (expected one of 5)"
    ]


def test_the_refunded_flag_must_match(owner, model):
    refunded_but_unflagged = GenerationFactory.create(user=owner, model=model)
    generation_fail(generation_id=refunded_but_unflagged.pk, error_code="X", error_message="x")
    Generation.objects.filter(pk=refunded_but_unflagged.pk).update(refunded=False)

    assert problems() == [f"generation {refunded_but_unflagged.pk} (failed, price 5): not marked refunded"]


def test_a_missing_or_wrong_charge_is_reported(owner, stranger, model):
    uncharged = GenerationFactory.create(user=owner, model=model)
    CreditLedgerEntry.objects.filter(reference=f"generation:{uncharged.pk}").delete()
    wrong_user = GenerationFactory.create(user=owner, model=model)
    CreditLedgerEntry.objects.filter(reference=f"generation:{wrong_user.pk}").update(user=stranger)

    assert problems() == [
        f"generation {uncharged.pk} (pending, price 5): 0 charge(s) totalling 0 (expected one of -5)",
        f"generation {wrong_user.pk} (pending, price 5): ledger rows on another user than {owner.pk}",
    ]


def test_ledger_rows_for_a_generation_that_does_not_exist_are_reported(owner):
    credits_change(user_id=owner.pk, amount=9, kind=CreditKind.GENERATION_REFUND, reference="generation:999999")

    assert problems() == ["generation:999999 does not exist but has 0 charge(s) and 1 refund(s)"]


def test_a_malformed_generation_reference_is_reported(owner):
    credits_change(user_id=owner.pk, amount=9, kind=CreditKind.GENERATION_REFUND, reference="generation:12abc")

    assert problems() == ["malformed generation references in the ledger, such as 'generation:12abc'"]


def test_the_check_is_one_statement_however_many_generations(owner, model):
    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert problems() == []
        return len([query for query in captured.captured_queries if "generations_generation" in query["sql"]])

    GenerationFactory.create(user=owner, model=model)
    assert statements() == 1
    for _ in range(30):
        GenerationFactory.create(user=owner, model=model)
    assert statements() == 1
