"""Every refusal of a start leaves no trace: no generation, no ledger row, the balance
untouched, the queue empty. A start debits before it checks (one statement both locks
and debits), so each refusal relies on the rollback; every one is exercised here,
and a ban set through the ORM after authentication is caught by the service itself."""

from typing import Any

import pytest
from django.test import override_settings
from django_q.models import OrmQ

from accounts.errors import UserBanned
from accounts.models import CreditKind, CreditLedgerEntry, User
from generations.models import Generation
from generations.services import generation_start
from tests.generations.api.helpers import IMAGE_PRICE, assert_error, balance, start
from tests.helpers import credits_give

pytestmark = pytest.mark.django_db


def _nothing_changed(user: User, *, generations: int, credits: int) -> None:
    assert Generation.objects.count() == generations
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).count() == generations
    assert balance(user) == credits


REFUSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown model", {"model": "no-such-model"}, 400, "MODEL_UNAVAILABLE"),
    ("disabled model", {"model": "test-retired"}, 400, "MODEL_UNAVAILABLE"),
    ("bad params", {"params": {"seed": 0}}, 400, "VALIDATION_ERROR"),
    ("unknown param", {"params": {"steps": 4}}, 400, "VALIDATION_ERROR"),
    ("duplicate", {"idempotency_key": "first"}, 409, "DUPLICATE_REQUEST"),
    ("key reused", {"idempotency_key": "first", "prompt": "another"}, 422, "IDEMPOTENCY_KEY_REUSED"),
]


@pytest.mark.parametrize(("body", "status", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_refused_start_debits_nothing(rich_owner, owner_client, image_model, inactive_model, audit_passes,
                                        django_capture_on_commit_callbacks, body, status, code):
    assert start(owner_client, idempotency_key="first").status_code == 201
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert_error(start(owner_client, **body), status, code)
    assert callbacks == []
    _nothing_changed(rich_owner, generations=1, credits=10_000 - IMAGE_PRICE)


@pytest.mark.django_db(transaction=True)
def test_a_refusal_after_the_debit_is_rolled_back_for_real(rich_owner, owner_client, image_model, audit_passes,
                                                          django_assert_max_num_queries):
    """In a real transaction, as in production: bad params are found after the debit
    (the schema comes with the usage read), and the ROLLBACK returns it."""
    with django_assert_max_num_queries(10) as captured:
        assert_error(start(owner_client, params={"seed": 0}), 400, "VALIDATION_ERROR")
    sql = [query["sql"] for query in captured.captured_queries]
    assert any(statement.startswith("WITH debit AS") for statement in sql) and "ROLLBACK" in sql, sql
    assert not OrmQ.objects.exists()
    _nothing_changed(rich_owner, generations=0, credits=10_000)


@override_settings(GENERATION_RATE_LIMIT_PER_MINUTE=2, GENERATION_MAX_ACTIVE=100)
def test_a_rate_limited_start_debits_nothing(rich_owner, owner_client, image_model, audit_passes):
    for _ in range(2):
        assert start(owner_client).status_code == 201
    assert_error(start(owner_client), 429, "RATE_LIMIT_EXCEEDED")
    _nothing_changed(rich_owner, generations=2, credits=10_000 - 2 * IMAGE_PRICE)


@override_settings(GENERATION_MAX_ACTIVE=2)
def test_a_start_over_the_active_limit_debits_nothing(rich_owner, owner_client, image_model, audit_passes):
    for _ in range(2):
        assert start(owner_client).status_code == 201
    assert_error(start(owner_client), 429, "MAX_ACTIVE_GENERATIONS")
    _nothing_changed(rich_owner, generations=2, credits=10_000 - 2 * IMAGE_PRICE)


def test_a_start_without_enough_credits_debits_nothing(owner, owner_client, image_model, audit_passes):
    credits_give(owner, IMAGE_PRICE - 1)
    body = assert_error(start(owner_client), 402, "INSUFFICIENT_CREDITS")
    assert body["details"] == {"balance": IMAGE_PRICE - 1, "price": IMAGE_PRICE}
    _nothing_changed(owner, generations=0, credits=IMAGE_PRICE - 1)


def test_a_user_banned_through_the_orm_gets_403_and_is_not_debited(rich_owner, owner_client, image_model,
                                                                  audit_passes):
    assert start(owner_client).status_code == 201
    User.objects.filter(pk=rich_owner.pk).update(is_banned=True)
    assert_error(start(owner_client), 403, "USER_BANNED")
    _nothing_changed(rich_owner, generations=1, credits=10_000 - IMAGE_PRICE)


@pytest.mark.parametrize("credits", [10_000, IMAGE_PRICE - 1], ids=["debit taken, then refused", "no debit"])
def test_the_service_sees_a_ban_set_after_authentication(owner, image_model, audit_passes, credits):
    """The API checks the ban at authentication; a ban committed between that check and
    the start's lock is the service's to catch, whether the debit went through (and is
    rolled back) or not (the locked row says so)."""
    credits_give(owner, credits)
    authenticated = User.objects.get(pk=owner.pk)
    User.objects.filter(pk=owner.pk).update(is_banned=True)

    with pytest.raises(UserBanned):
        generation_start(user=authenticated, model_slug="test-image", prompt="a red cat")
    _nothing_changed(owner, generations=0, credits=credits)


def test_ban_comes_before_validation(rich_owner, image_model, audit_passes):
    authenticated = User.objects.get(pk=rich_owner.pk)
    User.objects.filter(pk=rich_owner.pk).update(is_banned=True)
    for bad in ({"model_slug": "no-such-model"}, {"params": {"seed": 0}}):
        arguments: dict[str, Any] = {"model_slug": "test-image", "prompt": "a cat", **bad}
        with pytest.raises(UserBanned):
            generation_start(user=authenticated, **arguments)
    assert not OrmQ.objects.exists()
    _nothing_changed(rich_owner, generations=0, credits=10_000)
