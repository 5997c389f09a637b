"""The AIML API client against a fake AIML API on a loopback socket."""

import pytest

from generations.failures import FailureCode
from generations.models import AIModel
from generations.providers import (
    AimlApiProvider,
    GenerationRequest,
    PermanentProviderError,
    TransientProviderError,
)
from tests.fakes.aimlapi import IMAGES, VIDEOS, Reply, error_body, png_bytes

# Models and fields as the AIML API documents them: the fake refuses anything else.
IMAGE = GenerationRequest(kind=AIModel.Kind.IMAGE, model="flux/schnell", prompt="a red fox",
                          params={"image_size": "square_hd"})
VIDEO = GenerationRequest(kind=AIModel.Kind.VIDEO, model="klingai/v2.1-master-text-to-video", prompt="waves")


@pytest.fixture
def client(fake_aimlapi):
    provider = AimlApiProvider.from_settings()
    yield provider
    provider.close()


def test_image_in_the_openai_shape_is_a_url_result(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(shape="data", name="fox.png")
    state = client.submit(request=IMAGE)
    assert state.finished
    assert state.result.url == f"{fake_aimlapi.base_url}/files/fox.png"
    [call] = fake_aimlapi.requests_to("POST", IMAGES)
    assert call.json == {"model": "flux/schnell", "prompt": "a red fox", "image_size": "square_hd"}
    assert call.headers["Authorization"] == "Bearer test-aimlapi-secret-key"


def test_image_in_the_images_shape_is_a_url_result(client, fake_aimlapi):
    fake_aimlapi.image_succeeds(shape="images", name="flux.png")
    state = client.submit(request=IMAGE)
    assert state.result.url.endswith("/files/flux.png")
    assert state.result.content_type == "image/png"


def test_image_as_b64_json_is_a_data_result(client, fake_aimlapi):
    data = png_bytes()
    fake_aimlapi.image_succeeds(shape="b64", data=data)
    assert client.submit(request=IMAGE).result.data == data


def test_video_is_created_then_polled_until_completed(client, fake_aimlapi):
    fake_aimlapi.video_job("gen-42", statuses=("queued", "generating", "completed"), name="clip.mp4")
    created = client.submit(request=VIDEO)
    assert (created.job_id, created.finished) == ("gen-42", False)
    assert not client.poll(request=VIDEO, job_id="gen-42").finished
    assert not client.poll(request=VIDEO, job_id="gen-42").finished
    done = client.poll(request=VIDEO, job_id="gen-42")
    assert done.result.url.endswith("/files/clip.mp4")
    polls = fake_aimlapi.requests_to("GET", VIDEOS)
    assert [p.query for p in polls] == [{"generation_id": ["gen-42"]}] * 3
    assert fake_aimlapi.requests_to("POST", VIDEOS)[0].json["model"] == "klingai/v2.1-master-text-to-video"


def test_video_job_that_ends_in_error_is_permanent(client, fake_aimlapi):
    fake_aimlapi.video_job("gen-7", statuses=("error",))
    client.submit(request=VIDEO)
    with pytest.raises(PermanentProviderError) as info:
        client.poll(request=VIDEO, job_id="gen-7")
    assert info.value.code == FailureCode.PROVIDER_ERROR
    assert "internal worker crashed" in info.value.detail


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, FailureCode.PROMPT_REJECTED),
        (422, FailureCode.PROMPT_REJECTED),
        (401, FailureCode.PROVIDER_ERROR),
        (403, FailureCode.PROVIDER_ERROR),
        (402, FailureCode.PROVIDER_UNAVAILABLE),
        (404, FailureCode.PROVIDER_ERROR),
    ],
)
def test_client_errors_fail_at_once_with_the_parsed_message(client, fake_aimlapi, status, code):
    fake_aimlapi.script("POST", IMAGES, Reply(status, json=error_body(status, f"problem number {status}")))
    with pytest.raises(PermanentProviderError) as info:
        client.submit(request=IMAGE)
    assert info.value.code == code
    assert f"HTTP {status}: problem number {status}" in info.value.detail
    assert "test-aimlapi-secret-key" not in str(info.value)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_rate_limits_and_server_errors_are_transient(client, fake_aimlapi, status):
    fake_aimlapi.script("POST", IMAGES, Reply(status, json=error_body(status, "try later")))
    with pytest.raises(TransientProviderError) as info:
        client.submit(request=IMAGE)
    assert info.value.code == FailureCode.PROVIDER_UNAVAILABLE
    assert f"HTTP {status}" in info.value.detail


def test_retry_after_of_a_429_is_kept(client, fake_aimlapi):
    fake_aimlapi.script("POST", IMAGES, Reply(429, json=error_body(429, "slow down"), headers={"Retry-After": "17"}))
    with pytest.raises(TransientProviderError) as info:
        client.submit(request=IMAGE)
    assert info.value.retry_after == 17


def test_a_response_slower_than_the_read_timeout_is_transient(client, fake_aimlapi):
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": "http://x/y.png"}]}, delay=2.0))
    with pytest.raises(TransientProviderError) as info:
        client.submit(request=IMAGE)
    assert "Timeout" in info.value.detail


def test_malformed_json_is_transient(client, fake_aimlapi):
    fake_aimlapi.script("POST", IMAGES, Reply(body=b'{"data": [{"url": "http://x', headers={}))
    with pytest.raises(TransientProviderError) as info:
        client.submit(request=IMAGE)
    assert "not JSON" in info.value.detail


def test_a_refused_connection_is_transient(settings):
    settings.AIMLAPI_KEY = "k"
    settings.AIMLAPI_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    provider = AimlApiProvider.from_settings()
    with pytest.raises(TransientProviderError):
        provider.submit(request=IMAGE)


@pytest.mark.parametrize(
    "body",
    [{"data": []}, {"images": [{"width": 1}]}, {"something": "else"}, {"data": [{"b64_json": "%%%not base64"}]}],
)
def test_an_image_response_without_an_image_is_permanent(client, fake_aimlapi, body):
    fake_aimlapi.script("POST", IMAGES, Reply(json=body))
    with pytest.raises(PermanentProviderError) as info:
        client.submit(request=IMAGE)
    assert info.value.code == FailureCode.PROVIDER_ERROR


def test_a_completed_video_without_a_url_is_permanent(client, fake_aimlapi):
    fake_aimlapi.script("GET", VIDEOS, Reply(json={"id": "gen-1", "status": "completed", "video": None}))
    with pytest.raises(PermanentProviderError):
        client.poll(request=VIDEO, job_id="gen-1")
