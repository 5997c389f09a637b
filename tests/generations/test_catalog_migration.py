"""The default catalog after the migrations: input images, current provider models,
price and timeout rules that the admin would accept, the withdrawn Seedance Lite
disabled but kept, and staff edits left alone."""

import pytest
from django.apps import apps

from generations.models import AIModel
from generations.params import params_schema_problems
from generations.rules import model_default_price, rule_problems

pytestmark = pytest.mark.django_db

migration = __import__("generations.migrations.0007_catalog_inputs_prices", fromlist=["catalog_update"])


def test_nano_banana_edits_up_to_three_photos_and_makes_up_to_four_pictures():
    banana = AIModel.objects.get(slug="nano-banana")
    assert (banana.provider_model_id, banana.provider_model_id_with_images) == (
        "google/gemini-2.5-flash-image", "google/gemini-2.5-flash-image-edit")
    assert (banana.images_min, banana.images_max) == (0, 3)
    assert banana.params_schema["num_images"] == {"type": "integer", "min": 1, "max": 4, "default": 1}
    assert banana.price_rule == {"base": 10, "factors": {"num_images": "value"}}


def test_seedance_lite_is_retired_and_seedance_pro_takes_its_place():
    lite = AIModel.objects.get(slug="seedance-lite")
    assert not lite.is_active and lite.provider_model_id == "bytedance/seedance-1-0-lite-t2v"
    pro = AIModel.objects.get(slug="seedance-pro")
    assert pro.is_active and pro.kind == "video"
    assert (pro.provider_model_id, pro.provider_model_id_with_images) == (
        "bytedance/seedance-1-0-pro-t2v", "bytedance/seedance-1-0-pro-i2v")
    assert (pro.images_min, pro.images_max) == (0, 1)
    assert pro.price == 60


def test_kling_animates_a_picture_and_has_time_for_ten_seconds():
    kling = AIModel.objects.get(slug="kling-master")
    assert kling.provider_model_id_with_images == "klingai/v2.1-master-image-to-video"
    assert kling.prompt_optional_with_images and kling.images_max == 1
    assert kling.params_schema["aspect_ratio"]["with_images"] is False
    assert kling.price_rule == {"base": 30, "factors": {"duration": "value"}} and kling.price == 150
    assert kling.timeout_rule == {"base": 1200, "factors": {"duration": {"5": 1, "10": 1.5}}}


def test_every_rule_is_one_the_admin_accepts_and_every_price_is_the_default():
    for model in AIModel.objects.all():
        assert params_schema_problems(model.params_schema) == [], model.slug
        assert rule_problems(model.price_rule, schema=model.params_schema) == [], model.slug
        assert rule_problems(model.timeout_rule, schema=model.params_schema) == [], model.slug
        assert model.price == model_default_price(model=model), model.slug


def test_running_it_again_keeps_staff_edits():
    AIModel.objects.filter(slug="nano-banana").update(price_rule={"base": 12, "factors": {}}, price=12,
                                                       images_max=1)
    AIModel.objects.filter(slug="seedance-pro").update(price=99, price_rule={})
    migration.catalog_update(apps, None)
    banana = AIModel.objects.get(slug="nano-banana")
    assert (banana.price, banana.images_max, banana.price_rule["base"]) == (12, 1, 12)
    assert AIModel.objects.get(slug="seedance-pro").price == 99
    assert AIModel.objects.filter(slug="seedance-pro").count() == 1
