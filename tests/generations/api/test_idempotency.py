"""Idempotency keys: a repeat returns the original, a different payload is refused,
a failed or cancelled generation frees its key, and concurrent repeats create one."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry
from accounts.services import credits_change
from generations.models import Generation
from generations.services import generation_claim, generation_complete, generation_fail, generation_reference
from tests.generations.api.helpers import (
    IMAGE_PRICE,
    assert_error,
    balance,
    owner_client_new,
    start,
    wait_until_blocked,
)
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db


def test_repeat_with_same_payload_is_409_with_the_original_and_no_debit(
    rich_owner, owner_client, image_model, audit_passes
):
    first = start(owner_client, idempotency_key="intent-1")
    assert first.status_code == 201

    body = assert_error(start(owner_client, idempotency_key="intent-1"), 409, "DUPLICATE_REQUEST")
    assert body["generation"] == first.json()
    assert Generation.objects.count() == 1
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).count() == 1


def test_header_repeat_of_a_body_key_is_the_same_intent(rich_owner, owner_client, image_model):
    first = start(owner_client, idempotency_key="intent-1")
    repeat = owner_client.post(
        "/api/generations", {"model": "test-image", "prompt": "a red cat"}, format="json",
        HTTP_IDEMPOTENCY_KEY="intent-1",
    )
    assert assert_error(repeat, 409, "DUPLICATE_REQUEST")["generation"]["id"] == first.json()["id"]


def test_explicit_defaults_and_surrounding_spaces_are_the_same_payload(rich_owner, owner_client, image_model):
    first = start(owner_client, idempotency_key="k")
    repeat = start(owner_client, prompt="  a red cat ", params={"aspect_ratio": "1:1", "raw": False},
                   idempotency_key="k")
    assert assert_error(repeat, 409, "DUPLICATE_REQUEST")["generation"]["id"] == first.json()["id"]


@pytest.mark.parametrize(
    "changes",
    [{"prompt": "a blue cat"}, {"params": {"aspect_ratio": "16:9"}}, {"model": "test-video"}],
    ids=["prompt", "params", "model"],
)
def test_same_key_with_another_payload_is_422(rich_owner, owner_client, image_model, video_model, audit_passes,
                                              changes):
    assert start(owner_client, idempotency_key="k").status_code == 201
    assert_error(start(owner_client, idempotency_key="k", **changes), 422, "IDEMPOTENCY_KEY_REUSED")
    assert Generation.objects.count() == 1
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


def test_completed_generation_keeps_its_key(rich_owner, owner_client, image_model):
    first = start(owner_client, idempotency_key="k").json()
    generation_claim(generation_id=first["id"])
    generation_complete(generation_id=first["id"], result_file="generations/x.png", content_type="image/png")
    body = assert_error(start(owner_client, idempotency_key="k"), 409, "DUPLICATE_REQUEST")
    assert body["generation"]["status"] == "completed"
    assert body["generation"]["result"]["url"].endswith("/media/generations/x.png")


def test_retry_after_a_failed_generation_starts_a_new_one(rich_owner, owner_client, image_model, audit_passes):
    first = start(owner_client, idempotency_key="k").json()
    generation_fail(generation_id=first["id"], error_code="PROVIDER_ERROR", error_message="boom")

    retry = start(owner_client, idempotency_key="k")
    assert retry.status_code == 201, retry.content
    assert retry.json()["id"] != first["id"]
    assert retry.json()["idempotency_key"] == "k"
    # Charged twice, refunded once: one price is spent.
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE
    # And the new one holds the key again.
    assert assert_error(start(owner_client, idempotency_key="k"), 409, "DUPLICATE_REQUEST")["generation"]["id"] == (
        retry.json()["id"]
    )


def test_retry_after_cancel_may_even_change_the_payload(rich_owner, owner_client, image_model, audit_passes):
    first = start(owner_client, idempotency_key="k").json()
    assert owner_client.post(f"/api/generations/{first['id']}/cancel").status_code == 200
    retry = start(owner_client, prompt="something else", idempotency_key="k")
    assert retry.status_code == 201, retry.content
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


def test_keys_belong_to_one_user(rich_owner, stranger, owner_client, stranger_client, image_model):
    from tests.helpers import credits_give

    credits_give(stranger, 100)
    assert start(owner_client, idempotency_key="shared").status_code == 201
    assert start(stranger_client, idempotency_key="shared").status_code == 201


def test_no_key_never_deduplicates(rich_owner, owner_client, image_model):
    assert start(owner_client).status_code == 201
    assert start(owner_client).status_code == 201
    assert Generation.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_repeats_of_one_key_create_one_generation(rich_owner, image_model, audit_passes):
    def attempt(_i: int):
        response = start(owner_client_new(rich_owner), idempotency_key="same-intent")
        return response.status_code, response.json()

    results = run_in_threads(20, attempt)

    statuses = sorted(status for status, _body in results)
    assert statuses == [201] + [409] * 19, results
    created = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 409:
            assert body["code"] == "DUPLICATE_REQUEST"
            assert body["generation"]["id"] == created["id"]
    assert Generation.objects.count() == 1
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).count() == 1
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


@pytest.mark.django_db(transaction=True)
def test_the_unique_constraint_turns_a_lost_race_into_409_not_500(rich_owner, image_model, audit_passes):
    """A writer that skips the user lock takes the key between our check and our
    insert: the insert waits on the constraint, then loses, and the client gets 409
    with the winner's generation; nothing of the loser is written."""
    from generations.services import payload_fingerprint

    payload_hash = payload_fingerprint(
        model_slug="test-image", prompt="a red cat", params={"aspect_ratio": "1:1", "raw": False}
    )
    inserted = threading.Event()
    may_commit = threading.Event()
    winner: dict[str, int] = {}

    def rogue_writer() -> None:
        try:
            with transaction.atomic():
                generation = Generation.objects.create(
                    user=rich_owner, model=image_model, kind="image", prompt="a red cat",
                    params={"aspect_ratio": "1:1", "raw": False}, credits_charged=IMAGE_PRICE,
                    idempotency_key="race", payload_hash=payload_hash, timeout_at=timezone.now(),
                )
                winner["id"] = generation.pk
                inserted.set()
                may_commit.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=rogue_writer)
    thread.start()
    assert inserted.wait(timeout=30)

    responses = []

    def request() -> None:
        try:
            responses.append(start(owner_client_new(rich_owner), idempotency_key="race"))
        finally:
            connection.close()

    requester = threading.Thread(target=request)
    requester.start()
    wait_until_blocked('INSERT INTO "generations_generation"')
    may_commit.set()
    requester.join(timeout=30)
    thread.join(timeout=30)

    body = assert_error(responses[0], 409, "DUPLICATE_REQUEST")
    assert body["generation"]["id"] == winner["id"]
    assert Generation.objects.count() == 1
    assert not CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).exists()
    assert balance(rich_owner) == 10_000
    # The rogue writer's charge, so that every money rule holds afterwards.
    credits_change(user_id=rich_owner.pk, amount=-IMAGE_PRICE, kind=CreditKind.GENERATION_CHARGE,
                   reference=generation_reference(winner["id"]))

