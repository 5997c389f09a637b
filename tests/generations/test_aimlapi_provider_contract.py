"""The AIML API client against the strict fake: input images as data URLs, several
results, NSFW flags, text-only answers, 403 out of credits, costs, X-Client-Request-Id,
creates whose answer was lost (and their lookup in the usage logs)."""

import base64
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image

from generations.failures import FailureCode
from generations.models import AIModel
from generations.providers import (
    AimlApiProvider,
    GenerationRequest,
    InputImage,
    LookupOutcome,
    PermanentProviderError,
    ProviderAccountError,
    TransientProviderError,
)
from tests.fakes.aimlapi import IMAGES, LOGS, VIDEOS, Reply, error_body, image_of_data_url
from tests.generations.images import jpeg_bytes, png_bytes

IMAGE_KIND, VIDEO_KIND = AIModel.Kind.IMAGE, AIModel.Kind.VIDEO
PHOTO = InputImage(data=jpeg_bytes((40, 20), metadata=False), content_type="image/jpeg")
SKETCH = InputImage(data=png_bytes((30, 30)), content_type="image/png")
EDIT = GenerationRequest(kind=IMAGE_KIND, model="google/gemini-2.5-flash-image-edit", prompt="make it a watercolour",
                         params={"aspect_ratio": "1:1", "num_images": 2}, images=(PHOTO, SKETCH),
                         client_request_id="nanogen-7-1")
TEXT = GenerationRequest(kind=IMAGE_KIND, model="google/gemini-2.5-flash-image", prompt="a fox",
                         params={"aspect_ratio": "1:1", "num_images": 1}, client_request_id="nanogen-8-1")
FLUX = GenerationRequest(kind=IMAGE_KIND, model="flux/schnell", prompt="a fox", params={"num_images": 3},
                         client_request_id="nanogen-9-1")
ANIMATE = GenerationRequest(kind=VIDEO_KIND, model="klingai/v2.1-master-image-to-video", prompt="",
                            params={"duration": 5}, images=(PHOTO,), client_request_id="nanogen-10-2")
KLING = GenerationRequest(kind=VIDEO_KIND, model="klingai/v2.1-master-text-to-video", prompt="waves",
                          params={"aspect_ratio": "16:9", "duration": 10}, client_request_id="nanogen-11-1")


@pytest.fixture
def client(fake_aimlapi):
    provider = AimlApiProvider.from_settings()
    yield provider
    provider.close()


def test_an_edit_sends_the_images_as_data_urls_in_order(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(shape="images", count=2)
    state = client.submit(request=EDIT)

    assert len(state.results) == 2
    [call] = fake_aimlapi.requests_to("POST", IMAGES)
    assert call.json["model"] == "google/gemini-2.5-flash-image-edit"
    assert call.json["prompt"] == "make it a watercolour"
    urls = call.json["image_urls"]
    assert [url.split(";")[0] for url in urls] == ["data:image/jpeg", "data:image/png"]
    assert base64.b64decode(urls[0].split(",", 1)[1]) == PHOTO.data
    assert image_of_data_url(urls[1]).size == (30, 30)
    assert call.headers["X-Client-Request-Id"] == "nanogen-7-1"


def test_an_image_to_video_sends_the_first_frame_and_no_empty_prompt(client, fake_aimlapi):
    fake_aimlapi.video_job("job-a", statuses=("completed",))
    created = client.submit(request=ANIMATE)
    assert created.job_id == "job-a" and not created.finished
    [call] = fake_aimlapi.requests_to("POST", VIDEOS)
    assert call.json == {"model": "klingai/v2.1-master-image-to-video", "duration": 5,
                         "image_url": PHOTO.data_url()}
    done = client.poll(request=ANIMATE, job_id="job-a")
    assert done.finished
    # Every call of the attempt carries its id, polls too.
    assert [r.headers["X-Client-Request-Id"] for r in fake_aimlapi.requests_to("GET", VIDEOS)] == ["nanogen-10-2"]


def test_every_result_is_returned_in_order(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(shape="data", count=3, name="r.png")
    state = client.submit(request=FLUX)
    assert [result.url.rsplit("/", 1)[1] for result in state.results] == ["r.png", "r-1.png", "r-2.png"]


def test_nsfw_flagged_images_are_not_delivered(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(shape="images", count=3, nsfw=[False, True, False], name="f.png", cost="0.009")
    state = client.submit(request=FLUX)
    assert [result.url.rsplit("/", 1)[1] for result in state.results] == ["f.png", "f-2.png"]
    assert state.cost_usd == Decimal("0.009")


def test_all_images_flagged_is_a_rejected_prompt_that_was_billed(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(shape="images", count=2, nsfw=[True, True], cost="0.006")
    with pytest.raises(PermanentProviderError) as info:
        client.submit(request=FLUX)
    assert info.value.code == FailureCode.PROMPT_REJECTED
    assert info.value.cost_usd == Decimal("0.006")


def test_an_answer_with_text_and_no_image_is_a_rejected_prompt(client, fake_aimlapi):
    fake_aimlapi.image_text_only("I can't create images of real people in that situation.")
    with pytest.raises(PermanentProviderError) as info:
        client.submit(request=TEXT)
    assert info.value.code == FailureCode.PROMPT_REJECTED
    # The provider's reason is for the logs.
    assert "real people" in info.value.detail


def test_403_is_the_account_out_of_credits(client, fake_aimlapi):
    fake_aimlapi.out_of_credits()
    with pytest.raises(ProviderAccountError) as info:
        client.submit(request=TEXT)
    assert (info.value.code, info.value.reason) == (FailureCode.PROVIDER_UNAVAILABLE, "out_of_credits")
    assert "run out of credits" in info.value.detail


def test_the_cost_comes_from_the_header_or_the_body(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(cost="0.039000000")
    assert client.submit(request=TEXT).cost_usd == Decimal("0.039")
    fake_aimlapi.video_job("job-c", statuses=("completed",), cost="0.84")
    client.submit(request=KLING)
    assert client.poll(request=KLING, job_id="job-c").cost_usd == Decimal("0.84")
    fake_aimlapi.script("GET", VIDEOS, Reply(json={"id": "job-d", "status": "completed", "video": {"url": "http://x/v"},
                                                    "meta": {"usage": {"credits_used": 5, "usd_spent": 0.42}}}))
    assert client.poll(request=KLING, job_id="job-d").cost_usd == Decimal("0.42")
    fake_aimlapi.image_succeeds(cost="not a number")
    assert client.submit(request=TEXT).cost_usd is None


@pytest.mark.parametrize(
    ("reply", "may_have_started"),
    [
        (Reply(json={"id": "job-slow", "status": "queued"}, delay=2.0), True),  # a read timeout
        (Reply(502, json=error_body(502, "bad gateway", VIDEOS)), True),
        (Reply(503, json=error_body(503, "unavailable", VIDEOS)), True),
        (Reply(body=b"<html>proxy</html>"), True),
        (Reply(429, json=error_body(429, "slow down", VIDEOS)), False),
    ],
    ids=["read timeout", "502", "503", "not JSON", "429"],
)
def test_a_video_create_whose_answer_is_lost_may_have_started_a_job(client, fake_aimlapi, reply, may_have_started):
    fake_aimlapi.script("POST", VIDEOS, reply)
    with pytest.raises(TransientProviderError) as info:
        client.submit(request=KLING)
    assert info.value.may_have_started is may_have_started


def test_an_image_create_timeout_is_an_ordinary_transient_error(client, fake_aimlapi):
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": []}, delay=2.0))
    with pytest.raises(TransientProviderError) as info:
        client.submit(request=TEXT)
    assert info.value.may_have_started is False


def test_a_refused_connection_started_nothing(settings):
    settings.AIMLAPI_KEY = "k"
    settings.AIMLAPI_BASE_URL = "http://127.0.0.1:9"
    with pytest.raises(TransientProviderError) as info:
        AimlApiProvider.from_settings().submit(request=KLING)
    assert info.value.may_have_started is False


def test_a_lost_create_is_found_in_the_usage_logs(client, fake_aimlapi):
    since = timezone.now()
    fake_aimlapi.script("POST", VIDEOS, Reply(json={"id": "job-lost", "status": "queued"}, delay=2.0))
    with pytest.raises(TransientProviderError):
        client.submit(request=KLING)

    found = client.lookup(request=KLING, client_request_id="nanogen-11-1", since=since)

    assert (found.outcome, found.job_id) == (LookupOutcome.FOUND, "job-lost")
    [read] = fake_aimlapi.requests_to("GET", LOGS)
    assert read.query["model"] == ["klingai/v2.1-master-text-to-video"]
    assert read.headers["X-Client-Request-Id"] == "nanogen-11-1"


def test_a_lookup_reads_page_after_page(client, fake_aimlapi):
    since = timezone.now()
    fake_aimlapi.video_job("mine", statuses=())
    client.submit(request=KLING)
    for number in range(150):  # later creates of other generations, listed before it
        fake_aimlapi.script("POST", VIDEOS, Reply(json={"id": f"other-{number}", "status": "queued"}))
        client.submit(request=GenerationRequest(kind=VIDEO_KIND, model=KLING.model, prompt="x",
                                                client_request_id=f"nanogen-{100 + number}-1"))
    found = client.lookup(request=KLING, client_request_id="nanogen-11-1", since=since)
    assert (found.outcome, found.job_id) == (LookupOutcome.FOUND, "mine")
    assert len(fake_aimlapi.requests_to("GET", LOGS)) == 2


def test_a_create_that_failed_upstream_is_reported_failed(client, fake_aimlapi):
    since = timezone.now()
    fake_aimlapi.script("POST", VIDEOS, Reply(502, json=error_body(502, "bad gateway", VIDEOS)))
    with pytest.raises(TransientProviderError):
        client.submit(request=KLING)
    assert client.lookup(request=KLING, client_request_id="nanogen-11-1", since=since).outcome == LookupOutcome.FAILED


def test_no_trace_yet_is_not_found(client, fake_aimlapi):
    since = timezone.now() - timedelta(minutes=5)
    fake_aimlapi.video_job("job-x", statuses=())
    client.submit(request=KLING)
    fake_aimlapi.logs_lagging = True
    assert client.lookup(request=KLING, client_request_id="nanogen-11-1", since=since).outcome == (
        LookupOutcome.NOT_FOUND
    )
    fake_aimlapi.logs_lagging = False
    assert client.lookup(request=KLING, client_request_id="nanogen-99-1", since=since).outcome == (
        LookupOutcome.NOT_FOUND
    )


# --- the fake is as strict as the real API -----------------------------------------------


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (GenerationRequest(kind=IMAGE_KIND, model="flux/schnell", prompt="x", params={"aspect_ratio": "1:1"}),
         "property aspect_ratio should not exist"),
        (GenerationRequest(kind=IMAGE_KIND, model="google/gemini-2.5-flash-image", prompt="x",
                           params={"num_images": 5}), "num_images has a value the model does not take"),
        (GenerationRequest(kind=IMAGE_KIND, model="google/gemini-2.5-flash-image-edit", prompt="x"),
         "image_urls should not be empty"),
        (GenerationRequest(kind=IMAGE_KIND, model="google/gemini-2.5-flash-image-edit", prompt="x",
                           images=(InputImage(data=b"not an image", content_type="image/png"),)),
         "image_urls has a value the model does not take"),
        (GenerationRequest(kind=VIDEO_KIND, model="klingai/v2.1-master-image-to-video", prompt="x",
                           params={"aspect_ratio": "16:9"}, images=(PHOTO,)), "property aspect_ratio should not exist"),
        (GenerationRequest(kind=IMAGE_KIND, model="no/such-model", prompt="x"), "model must be one of the models"),
    ],
    ids=["unknown field", "num_images over 4", "edit without images", "broken image", "i2v aspect ratio",
         "unknown model"],
)
def test_the_fake_refuses_what_the_real_api_refuses(client, fake_aimlapi, request_, why):
    with pytest.raises(PermanentProviderError) as info:
        client.submit(request=request_)
    assert info.value.code == FailureCode.PROMPT_REJECTED
    assert why in info.value.detail


def test_the_withdrawn_seedance_lite_is_gone(client, fake_aimlapi):
    with pytest.raises(PermanentProviderError) as info:
        client.submit(request=GenerationRequest(kind=VIDEO_KIND, model="bytedance/seedance-1-0-lite-t2v", prompt="x"))
    assert info.value.code == FailureCode.PROVIDER_ERROR
    assert "HTTP 404: Model is deprecated" in info.value.detail


def test_data_urls_hold_the_images(client):
    with Image.open(io.BytesIO(base64.b64decode(PHOTO.data_url().split(",", 1)[1]))) as image:
        assert image.format == "JPEG"
