"""POST /api/generations/<id>/cancel: refunded exactly once, only one's own, only while active."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation
from generations.services import generation_claim, generation_complete, generation_fail, generation_reference
from tests.generations.api.helpers import IMAGE_PRICE, assert_error, balance, owner_client_new, start
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db


def cancel(client, generation_id):
    return client.post(f"/api/generations/{generation_id}/cancel")


def test_cancel_of_a_pending_generation_refunds_it(rich_owner, owner_client, image_model, audit_passes):
    created = start(owner_client).json()
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE

    response = cancel(owner_client, created["id"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == created["id"]
    assert body["status"] == "cancelled"
    assert body["refunded"] is True
    assert body["finished_at"] is not None
    assert body["error"] is None
    assert balance(rich_owner) == 10_000
    refund = CreditLedgerEntry.objects.get(kind=CreditKind.GENERATION_REFUND)
    assert (refund.amount, refund.reference) == (IMAGE_PRICE, generation_reference(created["id"]))


def test_cancel_of_a_processing_generation_refunds_it(rich_owner, owner_client, image_model, audit_passes):
    created = start(owner_client).json()
    assert generation_claim(generation_id=created["id"]) is not None
    body = cancel(owner_client, created["id"]).json()
    assert (body["status"], body["refunded"]) == ("cancelled", True)
    assert balance(rich_owner) == 10_000


def test_completed_generation_is_not_cancellable(rich_owner, owner_client, image_model, audit_passes):
    created = start(owner_client).json()
    generation_claim(generation_id=created["id"])
    generation_complete(generation_id=created["id"], result_file="generations/r.png", content_type="image/png")

    body = assert_error(cancel(owner_client, created["id"]), 409, "GENERATION_NOT_CANCELLABLE")
    assert body["details"] == {"status": "completed"}
    assert Generation.objects.get().status == "completed"
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


def test_failed_generation_is_not_cancellable_and_not_refunded_twice(rich_owner, owner_client, image_model,
                                                                     audit_passes):
    created = start(owner_client).json()
    generation_fail(generation_id=created["id"], error_code="PROVIDER_ERROR", error_message="down")
    assert_error(cancel(owner_client, created["id"]), 409, "GENERATION_NOT_CANCELLABLE")
    assert balance(rich_owner) == 10_000
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_REFUND).count() == 1


def test_second_cancel_is_409_and_refunds_nothing(rich_owner, owner_client, image_model, audit_passes):
    created = start(owner_client).json()
    assert cancel(owner_client, created["id"]).status_code == 200
    body = assert_error(cancel(owner_client, created["id"]), 409, "GENERATION_NOT_CANCELLABLE")
    assert body["details"] == {"status": "cancelled"}
    assert balance(rich_owner) == 10_000


def test_stranger_cannot_cancel_and_learns_nothing(rich_owner, owner_client, stranger_client, image_model,
                                                   audit_passes):
    created = start(owner_client).json()
    assert_error(cancel(stranger_client, created["id"]), 404, "NOT_FOUND")
    assert Generation.objects.get().status == "pending"
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


def test_cancel_of_a_missing_generation_is_404(owner_client):
    assert_error(cancel(owner_client, 999_999), 404, "NOT_FOUND")
    assert_error(owner_client.post("/api/generations/abc/cancel"), 404, "NOT_FOUND")


def test_cancel_needs_auth_and_post(rich_owner, owner_client, anonymous_client, image_model):
    created = start(owner_client).json()
    assert_error(cancel(anonymous_client, created["id"]), 401, "AUTH_REQUIRED")
    assert_error(owner_client.get(f"/api/generations/{created['id']}/cancel"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_cancels_refund_once(rich_owner, image_model, audit_passes):
    created = start(owner_client_new(rich_owner)).json()

    results = run_in_threads(2, lambda _i: cancel(owner_client_new(rich_owner), created["id"]))

    assert sorted(response.status_code for response in results) == [200, 409], [r.content for r in results]
    assert balance(rich_owner) == 10_000
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_REFUND).count() == 1
