"""A cancel (or a timeout) that wins the race against the provider: the late result
changes nothing, the stored file is removed, and the refund happens once."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import AIModel, Generation
from generations.services import generation_cancel_if_active
from generations.services.sweeper import generations_sweep
from generations.tasks import generation_run
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import IMAGES, Reply, png_bytes

Status = Generation.Status


def stored_results(generation: Generation) -> list[str]:
    folder = "generations"
    found = []
    stack = [folder]
    while stack:
        current = stack.pop()
        if not default_storage.exists(current):
            continue
        directories, files = default_storage.listdir(current)
        stack += [f"{current}/{d}" for d in directories]
        found += [f"{current}/{f}" for f in files if f.startswith(f"{generation.pk}-")]
    return found


@pytest.mark.django_db(transaction=True)
def test_cancel_while_processing_then_the_result_arrives(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=5))
    cancelled = []
    url = fake_aimlapi.serve_file("late.png", png_bytes(), "image/png")
    # The user cancels while the provider is working on the picture.
    fake_aimlapi.script(
        "POST", IMAGES,
        Reply(json={"data": [{"url": url}]},
              before=lambda: cancelled.append(generation_cancel_if_active(generation_id=generation.pk))),
    )

    assert generation_run(generation.pk) == "discarded"

    assert cancelled == [True]
    generation.refresh_from_db()
    assert (generation.status, generation.refunded, generation.result_file.name) == (Status.CANCELLED, True, "")
    assert CreditLedgerEntry.objects.filter(
        reference=f"generation:{generation.pk}", kind=CreditKind.GENERATION_REFUND
    ).count() == 1
    assert stored_results(generation) == []
    owner.refresh_from_db()
    assert owner.credits == 5


@pytest.mark.django_db(transaction=True)
def test_timeout_while_processing_then_the_result_arrives(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    url = fake_aimlapi.serve_file("late.png", png_bytes(), "image/png")

    def deadline_passes_and_sweeper_runs() -> None:
        Generation.objects.filter(pk=generation.pk).update(timeout_at=timezone.now() - timedelta(seconds=1))
        generations_sweep()

    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": url}]}, before=deadline_passes_and_sweeper_runs))

    assert generation_run(generation.pk) == "discarded"

    generation.refresh_from_db()
    assert (generation.status, generation.error_code, generation.refunded) == (Status.FAILED, "TIMEOUT", True)
    assert stored_results(generation) == []


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_called_outside_any_transaction(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    seen = {}

    def look_from_another_connection() -> None:
        # The claim is committed, and nothing holds a lock on the row or the user.
        with connections["default"].cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT status FROM generations_generation WHERE id = %s FOR UPDATE NOWAIT", [generation.pk])
            seen["status"] = cursor.fetchone()[0]
            cursor.execute("SELECT credits FROM accounts_user WHERE id = %s FOR UPDATE NOWAIT", [owner.pk])
            cursor.execute("ROLLBACK")

    fake_aimlapi.image_succeeds().before = look_from_another_connection

    assert generation_run(generation.pk) == "completed"
    assert seen == {"status": "processing"}
