"""Staff return a completed generation's credits (a bad result), once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry, User
from generations.errors import GenerationNotRefundable
from generations.models import Generation
from generations.services import generation_staff_refund
from tests.factories import AIModelFactory, GenerationFactory
from tests.helpers import credits_give, run_in_threads

CHANGELIST = "/admin/generations/generation/"


def staff_refund_entry(generation: Generation) -> CreditLedgerEntry:
    return CreditLedgerEntry.objects.get(kind=CreditKind.GENERATION_STAFF_REFUND,
                                         reference=f"generation:{generation.pk}")


@pytest.fixture
def generation(owner) -> Generation:
    model = AIModelFactory.create(slug="test-model", name="Test", kind="image", provider="demo",
                                  provider_model_id="demo", price=7)
    credits_give(owner, 10)
    return GenerationFactory.create(user=owner, model=model, prompt="a cat", status=Generation.Status.COMPLETED,
                                    timeout_at=timezone.now() + timedelta(minutes=15))


@pytest.mark.django_db
def test_a_completed_generation_is_refunded_once(owner, staff_user, generation, audit_passes):
    entry = generation_staff_refund(generation_id=generation.pk, staff=staff_user, reason="blurry result")
    assert (entry.amount, entry.kind, entry.reference) == (7, CreditKind.GENERATION_STAFF_REFUND,
                                                          f"generation:{generation.pk}")
    assert (entry.created_by, entry.note) == (staff_user, "blurry result")
    assert generation_staff_refund(generation_id=generation.pk, staff=staff_user, reason="again") is None
    owner.refresh_from_db()
    assert owner.credits == 10
    assert staff_refund_entry(generation) == entry


@pytest.mark.django_db(transaction=True)
def test_concurrent_staff_refunds_return_the_credits_once(owner, staff_user, generation, audit_passes):
    results = run_in_threads(4, lambda i: generation_staff_refund(generation_id=generation.pk, staff=staff_user,
                                                                  reason="bad"))
    assert sum(1 for r in results if isinstance(r, CreditLedgerEntry)) == 1, results
    owner.refresh_from_db()
    assert owner.credits == 10


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "processing", "failed", "cancelled"])
def test_only_completed_generations_are_refunded_by_staff(owner, staff_user, generation, status):
    Generation.objects.filter(pk=generation.pk).update(status=status)
    with pytest.raises(GenerationNotRefundable):
        generation_staff_refund(generation_id=generation.pk, staff=staff_user, reason="x")


@pytest.mark.django_db
def test_the_audit_notices_a_staff_refund_of_a_failed_generation(owner, staff_user, generation):
    from accounts.audit import audit_run

    generation_staff_refund(generation_id=generation.pk, staff=staff_user, reason="x")
    Generation.objects.filter(pk=generation.pk).update(status="failed", refunded=True)
    problems = audit_run()["generation staff refunds"]
    assert problems == [f"generation {generation.pk} is failed but was refunded by staff "
                        f"(entry {staff_refund_entry(generation).pk})"]


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_admin_action_asks_for_a_reason_then_refunds(owner, staff_user, generation, audit_passes):
    client = client_for(staff_user)
    form = client.post(CHANGELIST, {"action": "staff_refund", "_selected_action": [generation.pk]})
    assert form.status_code == 200 and b"Reason" in form.content
    data = {"action": "staff_refund", "_selected_action": [generation.pk], "apply": "1", "reason": "wrong picture"}
    assert b"7 credits returned" in client.post(CHANGELIST, data, follow=True).content
    assert b"already refunded" in client.post(CHANGELIST, {**data, "reason": "again"}, follow=True).content
    owner.refresh_from_db()
    assert owner.credits == 10


@pytest.mark.django_db
def test_the_admin_action_needs_the_change_permission(owner, generation):
    viewer = User.objects.create_user(email="v@example.com", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_generation"))
    client = client_for(viewer)
    assert client.get(CHANGELIST).status_code == 200
    client.post(CHANGELIST, {"action": "staff_refund", "_selected_action": [generation.pk], "apply": "1",
                             "reason": "x"})
    assert not CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_STAFF_REFUND).exists()
