"""The fake AIML API answers only what the AIML API documentation shows: an unknown
model, a missing required field, a field the model does not document or a value it
does not take is a 400 with the API's error body, before any scripted answer."""

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
    body = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "waves", "duration": 10, "resolution": "720p"}
    assert post(fake_aimlapi, VIDEOS, body).json()["id"] == "job-7"
    wrong = requests.get(fake_aimlapi.base_url + VIDEOS, params={"id": "job-7"}, timeout=5)
    assert wrong.status_code == 400
    assert wrong.json()["message"] == ["property id should not exist", "generation_id should not be empty"]
    done = requests.get(fake_aimlapi.base_url + VIDEOS, params={"generation_id": "job-7"}, timeout=5)
    assert done.json()["status"] == "completed"
    bad_duration = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "waves", "duration": "5"}
    assert post(fake_aimlapi, VIDEOS, bad_duration).status_code == 400


def test_the_default_catalog_sends_only_what_the_documentation_allows():
    """Every model and parameter choice of the default catalog is one the fake (and so
    the documentation) takes."""
    import importlib

    catalog = importlib.import_module("generations.migrations.0002_default_catalog").CATALOG
    from tests.fakes.aimlapi_models import request_problems

    for entry in catalog:
        path = IMAGES if entry["kind"] == "image" else VIDEOS
        assert entry["provider_model_id"] in MODELS, entry["slug"]
        for name, spec in entry["params_schema"].items():
            for choice in spec.get("choices", []):
                body = {"model": entry["provider_model_id"], "prompt": "x", name: choice}
                assert request_problems("POST", path, body, {}) == [], (entry["slug"], name, choice)
