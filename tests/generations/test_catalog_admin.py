"""Staff edit price and timeout rules in the admin: a rule is checked with clear
messages, the catalog's price is computed from it, the list's inline price cannot
contradict it; generations show their inputs, results and the provider's cost."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from generations.models import AIModel, Generation, StoredFile
from generations.services import generation_claim, generation_complete, upload_create_from_bytes
from generations.services.start import generation_start
from tests.generations.images import jpeg_bytes
from tests.helpers import credits_give

pytestmark = pytest.mark.django_db

SCHEMA = {
    "duration": {"type": "choice", "choices": [5, 10], "default": 5},
    "resolution": {"type": "choice", "choices": ["480p", "1080p"], "default": "480p"},
    "num_images": {"type": "integer", "min": 1, "max": 4, "default": 1},
    "watermark": {"type": "boolean", "default": False},
}


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def video(db) -> AIModel:
    return AIModel.objects.create(slug="vid", name="Vid", kind="video", provider_model_id="x/t2v", price=40,
                                  params_schema=SCHEMA)


def form(model: AIModel, **changes: object) -> dict[str, str]:
    data: dict[str, object] = {
        "slug": model.slug, "name": model.name, "kind": model.kind, "provider": "aimlapi",
        "provider_model_id": model.provider_model_id, "provider_model_id_with_images": "",
        "images_min": "0", "images_max": "0", "price": str(model.price), "price_rule": "{}", "timeout_rule": "{}",
        "is_active": "on", "sort_order": "1", "description": "", "params_schema": json.dumps(model.params_schema),
    }
    data.update(changes)
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in data.items()}


def save(client: Client, model: AIModel, **changes: object):
    return client.post(f"/admin/generations/aimodel/{model.pk}/change/", form(model, **changes))


def test_a_price_rule_sets_the_catalog_price(staff_client, video):
    rule = {"base": 8, "factors": {"duration": "value", "resolution": {"480p": 1, "1080p": 2.5}}}
    response = save(staff_client, video, price="1", price_rule=rule,
                    timeout_rule={"base": 600, "factors": {"duration": {"5": 1, "10": 2}}},
                    images_max="1", provider_model_id_with_images="x/i2v")
    assert response.status_code == 302, response.content.decode()[:3000]
    video.refresh_from_db()
    assert (video.price, video.price_rule, video.images_max) == (40, rule, 1)  # 8 x 5 seconds x 1


@pytest.mark.parametrize(
    ("field", "rule", "message"),
    [
        ("price_rule", {"base": 8, "factors": {"resolution": {"480p": 1}}}, "resolution: no factor for 1080p."),
        ("price_rule", {"base": 8, "factors": {"resolution": {"480p": 1, "1080p": 2, "4k": 3}}},
         "resolution: 4k is not a value of this parameter."),
        ("price_rule", {"base": 8, "factors": {"fps": "value"}}, "fps: not a parameter of this model."),
        ("price_rule", {"base": 0}, "base is a number above 0."),
        ("price_rule", {"base": "8"}, "base is a number above 0."),
        ("price_rule", {"base": 8, "factors": {"resolution": "value"}},
         'resolution: "value" needs a parameter whose values are whole numbers of 1 or more.'),
        ("price_rule", {"base": 8, "factors": {"duration": {"5": 1, "10": 0}}},
         "duration: the factor of 10 is a number above 0."),
        ("price_rule", {"base": 8, "factors": {"watermark": {"true": 2}}}, "watermark: no factor for false."),
        ("price_rule", {"base": 8, "per_image": -1}, "per_image is a number, 0 or more."),
        ("price_rule", {"base": 8, "discount": 2}, "Unknown keys discount; a rule has base, factors and per_image."),
        ("price_rule", [8], "A rule is a JSON object"),
        ("timeout_rule", {"base": 600, "factors": {"duration": {"5": 1}}}, "duration: no factor for 10."),
    ],
    ids=["missing value", "extra value", "unknown parameter", "zero base", "text base", "value of text",
         "zero factor", "boolean half", "negative per image", "unknown key", "not an object", "timeout rule"],
)
def test_a_bad_rule_is_refused_with_a_clear_message(staff_client, video, field, rule, message):
    response = save(staff_client, video, **{field: rule})
    assert response.status_code == 200
    assert message in response.content.decode().replace("&quot;", '"')
    video.refresh_from_db()
    assert video.price_rule == {} and video.timeout_rule == {} and video.price == 40


def test_the_images_range_is_checked(staff_client, video):
    response = save(staff_client, video, images_min="2", images_max="1")
    assert response.status_code == 200
    assert "At least the minimum and at most 10." in response.content.decode()


def test_a_flat_price_needs_a_price(staff_client, video):
    response = save(staff_client, video, price="")
    assert "A model without a price rule needs a price of at least 1." in response.content.decode()


def test_the_catalog_list_refuses_a_price_that_contradicts_the_rule(staff_client, video):
    AIModel.objects.exclude(pk=video.pk).delete()
    AIModel.objects.filter(pk=video.pk).update(price_rule={"base": 8, "factors": {"duration": "value"}})
    response = staff_client.post("/admin/generations/aimodel/", {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(video.pk), "form-0-price": "25", "form-0-is_active": "on", "form-0-sort_order": "1",
        "_save": "Save",
    })
    assert response.status_code == 200
    assert "This model&#x27;s price follows its price rule: edit the rule." in response.content.decode()
    video.refresh_from_db()
    assert video.price == 40


def test_a_generation_page_shows_inputs_results_and_the_providers_cost(staff_client, owner, audit_passes):
    AIModel.objects.create(slug="edit", name="Edit", kind="image", provider_model_id="x/y", price=5,
                           images_max=2)
    credits_give(owner, 50)
    upload = upload_create_from_bytes(user=owner, data=jpeg_bytes())
    generation = generation_start(user=owner, model_slug="edit", prompt="a cat", images=[str(upload.pk)])
    generation_claim(generation_id=generation.pk)
    generation_complete(
        generation_id=generation.pk,
        results=[StoredFile("generations/a.png", "image/png"), StoredFile("generations/b.png", "image/png")],
        provider_cost_usd=Decimal("0.078"),
    )
    page = staff_client.get(f"/admin/generations/generation/{generation.pk}/change/").content.decode()
    assert "0.078" in page
    assert upload.file.name in page  # the input, as a link
    assert "generations/a.png" in page and "generations/b.png" in page
    assert Generation.objects.get().results[1]["name"] == "generations/b.png"
    listing = staff_client.get("/admin/generations/upload/").content.decode()
    assert str(upload.pk) in listing
    assert staff_client.get(f"/admin/generations/upload/{upload.pk}/delete/").status_code == 403
