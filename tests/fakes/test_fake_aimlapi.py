"""The fake AIML API answers only what the AIML API documentation shows: an unknown
model, a missing required field, a field the model does not document or a value it
does not take is a 400 with the API's error body, before any scripted answer."""

import base64

import pytest
import requests

from tests.fakes.aimlapi import IMAGES, VIDEOS, error_body
from tests.fakes.aimlapi_models import MODELS


def post(fake, path: str, body: dict) -> requests.Response:
    return requests.post(fake.base_url + path, json=body, timeout=5)


@pytest.mark.parametrize(("body", "message"), [
    ({"model": "flux/schnell"}, "prompt should not be empty"),
    ({"model": "flux/schnell", "prompt": "x", "aspect_ratio": "1:1"}, "property aspect_ratio should not exist"),
    ({"model": "flux/schnell", "prompt": "x", "num_images": 5}, "num_images has a value the model does not take: 5"),
    ({"model": "google/gemini-2.5-flash-image", "prompt": "x", "aspect_ratio": "7:3"},
     "aspect_ratio has a value the model does not take: '7:3'"),
    ({"model": "no/such-model", "prompt": "x"}, f"model must be one of the models of {IMAGES}; got 'no/such-model'"),
    ({"model": "klingai/v2.1-master-text-to-video", "prompt": "x"},
     f"model must be one of the models of {IMAGES}; got 'klingai/v2.1-master-text-to-video'"),
])
def test_requests_the_documentation_does_not_allow_are_400(fake_aimlapi, body, message):
    fake_aimlapi.image_succeeds()  # a script is there: it must not be what answers
    response = post(fake_aimlapi, IMAGES, body)
    assert response.status_code == 400
    assert response.json() == error_body(400, [message], IMAGES)


def test_a_documented_request_gets_the_scripted_answer(fake_aimlapi):
    fake_aimlapi.image_succeeds(name="ok.png")
    body = {"model": "flux/schnell", "prompt": "x", "image_size": {"width": 512, "height": 768}, "num_images": 2}
    response = post(fake_aimlapi, IMAGES, body)
    assert response.status_code == 200 and response.json()["data"][0]["url"].endswith("/files/ok.png")


def test_video_creation_and_fetch_follow_the_documentation(fake_aimlapi):
    fake_aimlapi.video_job("job-7", statuses=("completed",))
    body = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "waves", "duration": 10, "resolution": "720p"}
    assert post(fake_aimlapi, VIDEOS, body).json()["id"] == "job-7"
    wrong = requests.get(fake_aimlapi.base_url + VIDEOS, params={"id": "job-7"}, timeout=5)
    assert wrong.status_code == 400
    assert wrong.json()["message"] == ["property id should not exist", "generation_id should not be empty"]
    done = requests.get(fake_aimlapi.base_url + VIDEOS, params={"generation_id": "job-7"}, timeout=5)
    assert done.json()["status"] == "completed"
    bad_duration = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "waves", "duration": "5"}
    assert post(fake_aimlapi, VIDEOS, bad_duration).status_code == 400


@pytest.mark.django_db
def test_the_default_catalog_sends_only_what_the_documentation_allows():
    """Every active model of the default catalog (after its migrations), with and without
    input images, and every parameter choice it offers, is one the fake (and so the
    documentation) takes."""
    from generations.models import AIModel
    from tests.fakes.aimlapi_models import request_problems
    from tests.generations.images import jpeg_bytes

    photo = "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(metadata=False)).decode()
    for model in AIModel.objects.filter(is_active=True):
        path = IMAGES if model.kind == "image" else VIDEOS
        variants: list[tuple[str, dict[str, object]]] = [(model.provider_model_id, {})]
        if model.images_max:
            images: dict[str, object] = (
                {"image_urls": [photo] * model.images_max} if model.kind == "image" else {"image_url": photo}
            )
            variants.append((model.provider_model_id_with_images or model.provider_model_id, images))
        for model_id, images in variants:
            assert model_id in MODELS, (model.slug, model_id)
            for name, spec in model.params_schema.items():
                if images and spec.get("with_images") is False:
                    continue
                values = spec.get("choices") or [spec.get("default")]
                for value in values:
                    body = {"model": model_id, "prompt": "x", name: value, **images}
                    assert request_problems("POST", path, body, {}) == [], (model.slug, model_id, name, value)


def test_a_withdrawn_model_is_404(fake_aimlapi):
    response = post(fake_aimlapi, VIDEOS, {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "waves"})
    assert response.status_code == 404
    assert response.json()["message"] == "Model is deprecated"
