"""The worker keeps results in the object store when MEDIA_STORAGE is s3, and an object
store that is down is a transient error: the step is retried, nothing is refunded."""

import os

import pytest
import requests

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import AIModel, Generation
from generations.tasks import generation_run
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import png_bytes
from tests.generations.steps import scheduled_steps_run

pytestmark = pytest.mark.django_db

Status = Generation.Status


@pytest.fixture
def image_model(db):
    return AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=4)


def test_the_result_is_stored_in_the_bucket_and_served_from_there(owner, owner_client, image_model, fake_aimlapi,
                                                                  s3_media, settings, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.image_succeeds(data=png_bytes((30, 20)))

    assert generation_run(generation.pk) == "completed"

    generation.refresh_from_db()
    assert s3_media.keys() == [generation.result_file.name]
    assert s3_media.get(generation.result_file.name) == png_bytes((30, 20))
    assert not any(files for _, _, files in os.walk(settings.MEDIA_ROOT) if files)
    result = owner_client.get(f"/api/generations/{generation.pk}").json()["result"]
    assert result["url"].startswith(f"{s3_media.endpoint_url}/{s3_media.bucket}/{generation.result_file.name}?")
    response = requests.get(result["url"], timeout=10)
    assert (response.status_code, response.content) == (200, png_bytes((30, 20)))
    assert result["content_type"] == response.headers["Content-Type"] == "image/png"


def test_a_store_that_is_down_is_retried_and_the_result_kept_once_it_is_back(owner, image_model, fake_aimlapi,
                                                                             s3_media, settings, audit_passes):
    store = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage", "OPTIONS": s3_media.storage_options(endpoint_url="http://127.0.0.1:9")}}
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.image_succeeds()
    fake_aimlapi.image_succeeds()

    assert generation_run(generation.pk) == "retry_scheduled"
    generation.refresh_from_db()
    assert (generation.status, generation.refunded, generation.result_file.name) == (Status.PROCESSING, False, "")

    settings.STORAGES = {**settings.STORAGES, "default": store}
    assert scheduled_steps_run() == ["completed"]

    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == (Status.COMPLETED, 2)
    assert s3_media.keys() == [generation.result_file.name]
    assert not CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_REFUND).exists()
