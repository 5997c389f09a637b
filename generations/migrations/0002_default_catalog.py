"""The default model catalog. Ids are the AIML API's (docs.aimlapi.com); parameter
names are the provider's request fields, so the worker passes `params` on as they are.
Staff change prices, order and availability in the admin afterwards."""

from django.db import migrations

ASPECT_RATIOS_GEMINI = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "5:4", "4:5", "21:9"]
ASPECT_RATIOS_FLUX_ULTRA = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"]

CATALOG = [
    {
        "slug": "nano-banana",
        "name": "Nano Banana",
        "kind": "image",
        "provider_model_id": "google/gemini-2.5-flash-image",
        "price": 10,
        "sort_order": 10,
        "description": "Google Gemini 2.5 Flash Image: photorealistic pictures that follow detailed prompts "
        "closely, good at legible text inside the image.",
        "params_schema": {"aspect_ratio": {"type": "choice", "choices": ASPECT_RATIOS_GEMINI, "default": "1:1"}},
    },
    {
        "slug": "flux-schnell",
        "name": "FLUX.1 [schnell]",
        "kind": "image",
        "provider_model_id": "flux/schnell",
        "price": 3,
        "sort_order": 20,
        "description": "Black Forest Labs FLUX.1 schnell: the fastest and cheapest pictures, great for sketches "
        "and trying out ideas.",
        "params_schema": {
            "image_size": {
                "type": "choice",
                "choices": ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"],
                "default": "square_hd",
            }
        },
    },
    {
        "slug": "flux-pro-ultra",
        "name": "FLUX 1.1 [pro] Ultra",
        "kind": "image",
        "provider_model_id": "flux-pro/v1.1-ultra",
        "price": 15,
        "sort_order": 30,
        "description": "Black Forest Labs FLUX 1.1 pro ultra: high-resolution, richly detailed images for "
        "the final result.",
        "params_schema": {
            "aspect_ratio": {"type": "choice", "choices": ASPECT_RATIOS_FLUX_ULTRA, "default": "1:1"}
        },
    },
    {
        "slug": "seedance-lite",
        "name": "Seedance 1.0 Lite",
        "kind": "video",
        "provider_model_id": "bytedance/seedance-1-0-lite-t2v",
        "price": 60,
        "sort_order": 110,
        "description": "ByteDance Seedance 1.0 Lite: short videos from a text prompt, quick and affordable.",
        "params_schema": {
            "aspect_ratio": {
                "type": "choice",
                "choices": ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21"],
                "default": "16:9",
            },
            "duration": {"type": "choice", "choices": [5, 10], "default": 5},
            "resolution": {"type": "choice", "choices": ["480p", "720p", "1080p"], "default": "720p"},
        },
    },
    {
        "slug": "kling-master",
        "name": "Kling 2.1 Master",
        "kind": "video",
        "provider_model_id": "klingai/v2.1-master-text-to-video",
        "price": 150,
        "sort_order": 120,
        "description": "Kling 2.1 Master: cinematic videos with realistic motion and close prompt adherence.",
        "params_schema": {
            "aspect_ratio": {"type": "choice", "choices": ["16:9", "9:16", "1:1"], "default": "16:9"},
            "duration": {"type": "choice", "choices": [5, 10], "default": 5},
        },
    },
]


def catalog_load(apps, schema_editor):
    AIModel = apps.get_model("generations", "AIModel")
    for entry in CATALOG:
        fields = {key: value for key, value in entry.items() if key != "slug"}
        AIModel.objects.get_or_create(slug=entry["slug"], defaults={"provider": "aimlapi", **fields})


def catalog_unload(apps, schema_editor):
    # Only entries nothing refers to: history keeps its models (on_delete=PROTECT).
    AIModel = apps.get_model("generations", "AIModel")
    AIModel.objects.filter(slug__in=[entry["slug"] for entry in CATALOG], generations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("generations", "0001_initial")]

    operations = [migrations.RunPython(catalog_load, catalog_unload)]
