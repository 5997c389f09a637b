"""Results are downloaded from the provider's URL, checked, and kept in media storage."""

import pytest
from django.core.files.storage import default_storage

from generations.failures import FailureCode
from generations.models import AIModel
from generations.providers import PermanentProviderError, ProviderResult, TransientProviderError
from generations.services.results import result_store
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import Reply, mp4_bytes, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_generation(owner):
    return GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))


@pytest.fixture
def video_generation(owner):
    return GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.VIDEO))


def test_a_downloaded_image_is_stored_under_an_unguessable_name(image_generation, fake_aimlapi):
    data = png_bytes((10, 10))
    url = fake_aimlapi.serve_file("a.png", data, "application/octet-stream")  # a CDN's generic type

    stored = result_store(generation=image_generation, result=ProviderResult(url=url))

    assert stored.content_type == "image/png"
    assert stored.name.endswith(".png") and f"/{image_generation.pk}-" in stored.name
    # The random part may itself contain "-" (URL-safe alphabet): split after the id.
    assert len(stored.name.split(f"/{image_generation.pk}-", 1)[1]) >= 16
    with default_storage.open(stored.name) as file:
        assert file.read() == data


def test_bytes_from_the_provider_are_stored(video_generation):
    stored = result_store(generation=video_generation, result=ProviderResult(data=mp4_bytes()))
    assert (stored.content_type, stored.name[-4:]) == ("video/mp4", ".mp4")


@pytest.mark.parametrize(
    ("status", "error"), [(404, PermanentProviderError), (410, PermanentProviderError), (403, PermanentProviderError),
                          (429, TransientProviderError), (500, TransientProviderError),
                          (503, TransientProviderError)],
)
def test_download_errors_are_classified(image_generation, fake_aimlapi, status, error):
    fake_aimlapi.script("GET", "/r/x.png", Reply(status, body=b"no"))
    # The fake serves scripted routes for any path: point the result there.
    with pytest.raises(error) as info:
        result_store(generation=image_generation, result=ProviderResult(url=fake_aimlapi.base_url + "/r/x.png"))
    assert info.value.code == FailureCode.RESULT_UNAVAILABLE


def test_a_download_slower_than_the_read_timeout_is_transient(image_generation, fake_aimlapi):
    fake_aimlapi.script("GET", "/r/slow.png", Reply(body=png_bytes(), headers={"Content-Type": "image/png"}, delay=2))
    with pytest.raises(TransientProviderError):
        result_store(generation=image_generation, result=ProviderResult(url=fake_aimlapi.base_url + "/r/slow.png"))


@pytest.mark.parametrize(
    "data",
    [b"", b"<html><body>Access denied</body></html>", png_bytes()[:40], b"GIF89a" + b"\x00" * 10],
    ids=["empty", "html", "truncated-png", "broken-gif"],
)
def test_content_that_is_not_a_real_image_is_refused(image_generation, fake_aimlapi, data):
    url = fake_aimlapi.serve_file("bad.png", data, "image/png")
    with pytest.raises(PermanentProviderError) as info:
        result_store(generation=image_generation, result=ProviderResult(url=url))
    assert info.value.code == FailureCode.RESULT_UNAVAILABLE


def test_a_still_image_is_not_a_video(video_generation):
    with pytest.raises(PermanentProviderError):
        result_store(generation=video_generation, result=ProviderResult(data=png_bytes()))


def test_results_over_the_size_limit_are_refused(image_generation, fake_aimlapi, settings):
    settings.GENERATION_RESULT_MAX_BYTES = 100
    url = fake_aimlapi.serve_file("big.png", png_bytes((400, 400)), "image/png")
    with pytest.raises(PermanentProviderError, match="size limit"):
        result_store(generation=image_generation, result=ProviderResult(url=url))
    with pytest.raises(PermanentProviderError, match="size limit"):
        result_store(generation=image_generation, result=ProviderResult(data=png_bytes((400, 400))))


def test_only_http_urls_are_downloaded(image_generation):
    with pytest.raises(PermanentProviderError):
        result_store(generation=image_generation, result=ProviderResult(url="file:///etc/passwd"))
