"""The default catalog takes input images and prices follow the parameters.

Every model id and parameter below was checked against the AIML API documentation
(github.com/aimlapi/api-docs at f14fa72, 2026-08-21; docs.aimlapi.com):

- nano-banana: `google/gemini-2.5-flash-image` (text to image: prompt, num_images 1-4,
  aspect_ratio) -- docs/api-references/image-models/google/gemini-2.5-flash-image.md and
  Google/gemini-2.5-flash-image.json; with input images its edit model
  `google/gemini-2.5-flash-image-edit` (prompt, image_urls: URLs or base64 data URLs, at
  most 3, num_images 1-4, aspect_ratio) -- image-models/google/gemini-2.5-flash-image-edit.md,
  listed in api-references/model-database.md (the schema file was shared with the
  alias `google/nano-banana-edit` on 2026-08-14, commit 87ef44b, which caps image_urls at 3).
- flux-schnell: `flux/schnell` (num_images 1-4, image_size) -- image-models/flux/flux-schnell.json;
  flux-pro-ultra: `flux-pro/v1.1-ultra` (num_images 1-4, aspect_ratio) --
  image-models/flux/flux-pro-v1.1-ultra.json. Both answer `has_nsfw_concepts`.
- seedance-pro (new): `bytedance/seedance-1-0-pro-t2v` and, with an image,
  `bytedance/seedance-1-0-pro-i2v` (prompt, image_url, resolution 480p/720p/1080p,
  duration 5 or 10) -- video-models/ByteDance/seedance-1.0-pro-text-to-video.json and
  seedance-1.0-pro-image-to-video.json. It replaces `seedance-lite`
  (`bytedance/seedance-1-0-lite-t2v`), which api-references/model-database.md lists
  under "Deprecated / No Longer Supported Models": that row is disabled, not deleted,
  so the history keeps it.
- kling-master: `klingai/v2.1-master-text-to-video` (prompt, aspect_ratio, duration 5 or
  10) and, with an image, `klingai/v2.1-master-image-to-video` (image_url required,
  prompt optional, duration; no aspect_ratio: the picture's) --
  video-models/Kling-AI/v2.1-master-text-to-video.json and v2.1-master-image-to-video.json.
  A 10-second Kling video takes 11-14 minutes upstream: its timeout is 30 minutes.

Staff edits survive: a row is only given what it does not have yet (an existing
price becomes the base of its rule), and the new row is created only when missing.
"""

from django.db import migrations

NUM_IMAGES = {"type": "integer", "min": 1, "max": 4, "default": 1}

SEEDANCE_PRO = {
    "slug": "seedance-pro",
    "name": "Seedance 1.0 Pro",
    "kind": "video",
    "provider": "aimlapi",
    "provider_model_id": "bytedance/seedance-1-0-pro-t2v",
    "provider_model_id_with_images": "bytedance/seedance-1-0-pro-i2v",
    "images_min": 0,
    "images_max": 1,
    "price": 60,
    "sort_order": 110,
    "description": "ByteDance Seedance 1.0 Pro: cinematic videos from a prompt, or a photo brought to life.",
    "params_schema": {
        "duration": {"type": "choice", "choices": [5, 10], "default": 5},
        "resolution": {"type": "choice", "choices": ["480p", "720p", "1080p"], "default": "720p"},
    },
    # 12 credits a second at 720p: 60 for the default five seconds.
    "price_rule": {"base": 12, "factors": {"duration": "value",
                                           "resolution": {"480p": 0.5, "720p": 1, "1080p": 2.25}}},
    "timeout_rule": {"base": 900, "factors": {"duration": {"5": 1, "10": 1.5}}},
}


def _per_result(model, *, images_max=0, with_images_id=""):
    """An image model: num_images 1-4, priced per result."""
    schema = dict(model.params_schema or {})
    schema.setdefault("num_images", dict(NUM_IMAGES))
    model.params_schema = schema
    if not model.price_rule:
        model.price_rule = {"base": model.price, "factors": {"num_images": "value"}}
    if images_max and not model.images_max:
        model.images_min, model.images_max = 0, images_max
        model.provider_model_id_with_images = model.provider_model_id_with_images or with_images_id


def catalog_update(apps, schema_editor):
    AIModel = apps.get_model("generations", "AIModel")

    banana = AIModel.objects.filter(slug="nano-banana").first()
    if banana is not None:
        _per_result(banana, images_max=3, with_images_id="google/gemini-2.5-flash-image-edit")
        banana.save()

    for slug in ("flux-schnell", "flux-pro-ultra"):
        flux = AIModel.objects.filter(slug=slug).first()
        if flux is not None:
            _per_result(flux)
            flux.save()

    kling = AIModel.objects.filter(slug="kling-master").first()
    if kling is not None:
        if not kling.images_max:
            kling.images_min, kling.images_max = 0, 1
            kling.provider_model_id_with_images = "klingai/v2.1-master-image-to-video"
            kling.prompt_optional_with_images = True
        schema = dict(kling.params_schema or {})
        if "aspect_ratio" in schema:
            schema["aspect_ratio"] = {**schema["aspect_ratio"], "with_images": False}
        kling.params_schema = schema
        durations = schema.get("duration", {}).get("choices", [])
        if not kling.price_rule and "duration" in schema and min(durations, default=0) >= 1:
            # Kling bills per second: the five-second price, spread over the seconds.
            per_second = max(1, round(kling.price / 5))
            kling.price_rule = {"base": per_second, "factors": {"duration": "value"}}
            kling.price = per_second * schema["duration"].get("default", 5)
        if not kling.timeout_rule and durations:
            kling.timeout_rule = {"base": 1200, "factors": {"duration": {str(d): (1.5 if d >= 10 else 1)
                                                                         for d in durations}}}
        kling.save()

    AIModel.objects.filter(slug="seedance-lite").update(is_active=False)
    fields = {key: value for key, value in SEEDANCE_PRO.items() if key != "slug"}
    AIModel.objects.get_or_create(slug=SEEDANCE_PRO["slug"], defaults=fields)


def catalog_revert(apps, schema_editor):
    AIModel = apps.get_model("generations", "AIModel")
    AIModel.objects.filter(slug=SEEDANCE_PRO["slug"], generations__isnull=True).delete()
    AIModel.objects.filter(slug="seedance-lite").update(is_active=True)


class Migration(migrations.Migration):
    dependencies = [("generations", "0006_inputs_prices_costs")]

    operations = [migrations.RunPython(catalog_update, catalog_revert)]
