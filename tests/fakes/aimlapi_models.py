"""What the AIML API documentation shows for each endpoint and model, for the fake.

The request schemas of docs.aimlapi.com (the aimlapi/api-docs repository, OpenAPI files
under docs/api-references/, the newest of each model), for the models NanoGen's catalog
uses: the required fields, every documented field and its allowed values. A request the
documentation does not allow is refused with 400 and the API's error body, as the real
API's validation does ("property X should not exist", "prompt should not be empty"), so
that a field name the code invents, or a value the model does not take, fails a test.
"""

from collections.abc import Callable
from typing import Any

IMAGES = "/v1/images/generations"
VIDEOS = "/v2/video/generations"

Check = Callable[[Any], bool]


def one_of(*values: Any) -> Check:
    return lambda value: value in values and type(value) in {type(v) for v in values}


def string(max_length: int | None = None) -> Check:
    return lambda value: isinstance(value, str) and (max_length is None or len(value) <= max_length)


def integer(low: int | None = None, high: int | None = None) -> Check:
    return lambda value: (isinstance(value, int) and not isinstance(value, bool)
                          and (low is None or value >= low) and (high is None or value <= high))


def boolean(value: Any) -> bool:
    return isinstance(value, bool)


def string_list(max_items: int) -> Check:
    return lambda value: (isinstance(value, list) and 1 <= len(value) <= max_items
                          and all(isinstance(item, str) and item for item in value))


def flux_image_size(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) <= {"width", "height"} and all(
            integer(64, 1536)(side) and side % 32 == 0 for side in value.values())
    return one_of("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9")(value)


# model -> (path, required fields besides `model`, {field: check}).
MODELS: dict[str, tuple[str, set[str], dict[str, Check]]] = {
    # image-models/Google/gemini-2.5-flash-image.json
    "google/gemini-2.5-flash-image": (IMAGES, {"prompt"}, {
        "prompt": string(),
        "num_images": integer(1, 4),
        "aspect_ratio": one_of("21:9", "1:1", "4:3", "3:2", "2:3", "5:4", "4:5", "3:4", "16:9", "9:16"),
        "provider": string(),
    }),
    # image-models/Google/gemini-2.5-flash-image-edit.json
    "google/nano-banana-edit": (IMAGES, {"prompt", "image_urls"}, {
        "prompt": string(),
        "image_urls": string_list(3),
        "aspect_ratio": one_of("1:1", "9:16", "16:9", "3:4", "4:3"),
        "enhance_prompt": boolean,
        "num_images": integer(1, 4),
        "seed": integer(0, 4294967295),
        "person_generation": one_of("dont_allow", "allow_adult"),
        "safety_setting": one_of("block_low_and_above", "block_medium_and_above", "block_only_high"),
        "add_watermark": boolean,
        "convert_base64_to_url": boolean,
        "provider": string(),
    }),
    # image-models/flux/flux-schnell.json
    "flux/schnell": (IMAGES, {"prompt"}, {
        "prompt": string(4000),
        "num_images": integer(1, 4),
        "seed": integer(1),
        "image_size": flux_image_size,
        "num_inference_steps": integer(1),
        "enable_safety_checker": boolean,
    }),
    # image-models/flux/flux-pro-v1.1-ultra.json
    "flux-pro/v1.1-ultra": (IMAGES, {"prompt"}, {
        "prompt": string(4000),
        "num_images": integer(1, 4),
        "seed": integer(),
        "safety_tolerance": one_of("1", "2", "3", "4", "5", "6"),
        "output_format": one_of("jpeg", "png"),
        "enable_safety_checker": boolean,
        "aspect_ratio": one_of("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"),
        "raw": one_of(False),
    }),
    # video-models/ByteDance/seedance-1.0-lite-text-to-video.json
    "bytedance/seedance-1-0-lite-t2v": (VIDEOS, {"prompt"}, {
        "prompt": string(),
        "resolution": one_of("480p", "720p", "1080p"),
        "duration": one_of(5, 10),
        "watermark": boolean,
        "seed": integer(),
        "camerafixed": boolean,
        "aspect_ratio": one_of("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"),
    }),
    # video-models/Kling-AI/v2.1-master-text-to-video.json
    "klingai/v2.1-master-text-to-video": (VIDEOS, {"prompt"}, {
        "prompt": string(),
        "aspect_ratio": one_of("16:9", "9:16", "1:1"),
        "duration": one_of(5, 10),
        "negative_prompt": string(),
        "cfg_scale": lambda value: isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1,
        "camera_control": one_of("down_back", "forward_up", "right_turn_forward", "left_turn_forward"),
        "advanced_camera_control": lambda value: isinstance(value, dict),
        "provider": string(),
    }),
}

# video-models/universal-video-fetch.json: GET with the one query parameter.
FETCH_QUERY = {"generation_id"}


def request_problems(method: str, path: str, body: Any, query: dict[str, list[str]]) -> list[str] | None:
    """The API's validation messages for a request, [] when it is valid, None for a path
    this table does not cover (files, other endpoints)."""
    if method == "GET" and path == VIDEOS:
        problems = [f"property {name} should not exist" for name in sorted(set(query) - FETCH_QUERY)]
        if not (query.get("generation_id") or [""])[0]:
            problems.append("generation_id should not be empty")
        return problems
    if method != "POST" or path not in (IMAGES, VIDEOS):
        return None
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    model = body.get("model")
    entry = MODELS.get(model) if isinstance(model, str) else None
    if entry is None or entry[0] != path:
        return [f"model must be one of the models of {path}; got {model!r}"]
    _path, required, fields = entry
    problems = [f"property {name} should not exist" for name in sorted(set(body) - set(fields) - {"model"})]
    for name in sorted(required):
        value = body.get(name)
        if value is None or value == "" or value == []:
            problems.append(f"{name} should not be empty")
    for name, check in fields.items():
        if name in body and body[name] is not None and not check(body[name]):
            problems.append(f"{name} has a value the model does not take: {body[name]!r}")
    return problems
