"""A start always sees the catalog as it is now (no cache): staff's price and active
changes made through the ORM apply to the very next start, and a change that lands
in the middle of a start never makes the charge and the generation disagree."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.services import user_lock
from generations.models import AIModel, Generation
from tests.generations.api.helpers import (
    IMAGE_PRICE,
    assert_error,
    balance,
    owner_client_new,
    start,
    wait_until_blocked,
)

pytestmark = pytest.mark.django_db

NEW_PRICE = 25


def test_a_price_change_is_charged_at_the_next_start(rich_owner, owner_client, image_model, audit_passes):
    assert start(owner_client).json()["credits_charged"] == IMAGE_PRICE
    AIModel.objects.filter(pk=image_model.pk).update(price=NEW_PRICE)

    response = start(owner_client)
    assert response.status_code == 201, response.content
    assert response.json()["credits_charged"] == NEW_PRICE
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE - NEW_PRICE
    charges = CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).order_by("id")
    assert [(c.amount, c.balance_after) for c in charges] == [
        (-IMAGE_PRICE, 10_000 - IMAGE_PRICE),
        (-NEW_PRICE, 10_000 - IMAGE_PRICE - NEW_PRICE),
    ]


def test_a_price_rise_above_the_balance_is_refused_with_the_new_price(owner, owner_client, image_model,
                                                                       audit_passes):
    from tests.helpers import credits_give

    credits_give(owner, IMAGE_PRICE)
    AIModel.objects.filter(pk=image_model.pk).update(price=IMAGE_PRICE + 1)
    body = assert_error(start(owner_client), 402, "INSUFFICIENT_CREDITS")
    assert body["details"] == {"balance": IMAGE_PRICE, "price": IMAGE_PRICE + 1}
    assert balance(owner) == IMAGE_PRICE


def test_a_model_disabled_through_the_orm_is_refused_at_the_next_start(rich_owner, owner_client, image_model,
                                                                      audit_passes):
    assert start(owner_client).status_code == 201
    AIModel.objects.filter(pk=image_model.pk).update(is_active=False)

    assert_error(start(owner_client), 400, "MODEL_UNAVAILABLE")
    assert Generation.objects.count() == 1
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE

    AIModel.objects.filter(pk=image_model.pk).update(is_active=True)
    assert start(owner_client).status_code == 201


def test_a_schema_change_applies_to_the_next_start(rich_owner, owner_client, image_model, audit_passes):
    AIModel.objects.filter(pk=image_model.pk).update(params_schema={})
    assert_error(start(owner_client, params={"seed": 5}), 400, "VALIDATION_ERROR")
    response = start(owner_client)
    assert response.status_code == 201, response.content
    assert response.json()["params"] == {}
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


# --- A catalog change in the middle of a start -------------------------------------
#
# The start's debit reads the price in its own snapshot, taken before it waits for the
# user's row lock; its next statement reads the model again. A change committed while
# the debit waits is seen by the second read only: the start must not charge the old
# price for the new model version.


def _start_while_the_catalog_changes(user: User, change: Callable[[], Any]) -> Any:
    """Start a generation whose debit waits on the user's row lock; while it waits,
    `change()` commits; then the lock is released and the start's response returned."""
    locked = threading.Event()
    release = threading.Event()
    responses: list[Any] = []

    def lock_holder() -> None:
        try:
            with transaction.atomic():
                user_lock(user_id=user.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def starter() -> None:
        try:
            responses.append(start(owner_client_new(user)))
        finally:
            connection.close()

    holder = threading.Thread(target=lock_holder)
    holder.start()
    assert locked.wait(timeout=30)
    requester = threading.Thread(target=starter)
    requester.start()
    try:
        wait_until_blocked("WITH debit AS")
        change()
    finally:
        release.set()
        holder.join(timeout=30)
        requester.join(timeout=30)
    assert len(responses) == 1
    return responses[0]


@pytest.mark.django_db(transaction=True)
def test_a_price_change_during_a_start_charges_the_price_the_generation_records(rich_owner, image_model,
                                                                               audit_passes):
    response = _start_while_the_catalog_changes(
        rich_owner, lambda: AIModel.objects.filter(pk=image_model.pk).update(price=NEW_PRICE)
    )

    assert response.status_code == 201, response.content
    # Started after the change committed (the lock was granted after it): the new price.
    assert response.json()["credits_charged"] == NEW_PRICE
    generation = Generation.objects.get()
    assert generation.credits_charged == NEW_PRICE
    charge = CreditLedgerEntry.objects.get(kind=CreditKind.GENERATION_CHARGE)
    assert (charge.amount, charge.balance_after) == (-NEW_PRICE, 10_000 - NEW_PRICE)
    assert balance(rich_owner) == 10_000 - NEW_PRICE


@pytest.mark.django_db(transaction=True)
def test_a_model_disabled_during_a_start_is_refused_and_nothing_is_debited(rich_owner, image_model,
                                                                          audit_passes):
    response = _start_while_the_catalog_changes(
        rich_owner, lambda: AIModel.objects.filter(pk=image_model.pk).update(is_active=False)
    )

    assert_error(response, 400, "MODEL_UNAVAILABLE")
    assert not Generation.objects.exists()
    assert not CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).exists()
    assert balance(rich_owner) == 10_000
