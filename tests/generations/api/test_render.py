"""`generation_render` writes out what GenerationOutputSerializer (the API's declared
shape) renders: the same body for a generation in every state."""

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from generations.api.generations import GenerationOutputSerializer, generation_render
from generations.models import Generation
from tests.factories import GenerationFactory


def both(generation: Generation) -> tuple[dict, dict]:
    request = Request(RequestFactory().get("/api/generations"))
    return generation_render(generation, request), dict(GenerationOutputSerializer(generation, context={
        "request": request}).data)


@pytest.mark.django_db
def test_a_pending_generation_renders_as_the_serializer_does(owner, image_model):
    generation = GenerationFactory.create(user=owner, model=image_model, params={"aspect_ratio": "16:9"},
                                          idempotency_key="render-key")
    fast, serializer = both(generation)
    assert fast == serializer
    assert list(fast) == list(serializer)  # the same keys in the same order: the same JSON bytes
    assert fast["created_at"].endswith("Z")


@pytest.mark.django_db
def test_finished_generations_render_as_the_serializer_does(owner, image_model):
    now = timezone.now()
    completed = GenerationFactory.create(
        user=owner, model=image_model, status=Generation.Status.COMPLETED, started_at=now, finished_at=now,
        results=[{"name": "generations/a.png", "content_type": "image/png"},
                 {"name": "generations/b.png", "content_type": "image/png"}],
        images=[{"upload": "u", "name": "uploads/in.jpg", "content_type": "image/jpeg"}],
    )
    legacy = GenerationFactory.create(user=owner, model=image_model, status=Generation.Status.COMPLETED,
                                      result_file="generations/old.png", result_content_type="image/png")
    failed = GenerationFactory.create(user=owner, model=image_model, status=Generation.Status.FAILED,
                                      refunded=True, error_code="PROVIDER_ERROR", error_message="It broke.")
    for generation in (completed, legacy, failed):
        fast, serializer = both(generation)
        assert fast == serializer, generation
        assert list(fast) == list(serializer)
    assert both(completed)[0]["result"]["url"].startswith("http://testserver/")
