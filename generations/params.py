"""A model's parameters beyond the prompt: the schema staff write in the catalog, and
the check of a user's `params` against it.

A schema maps each parameter name to its spec:

    {"aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"},
     "duration": {"type": "choice", "choices": [5, 10], "default": 5},
     "seed": {"type": "integer", "min": 1, "max": 4294967295},
     "watermark": {"type": "boolean", "default": false}}

Names are the provider's request fields, so the worker can pass `params` on as they
are. A parameter with a default is filled in when absent (the stored generation says
exactly what was asked for); one with `"required": true` must be given; others are
optional. Types are strict: `"5"` is not the integer 5 and `true` is not 1.

`"with_images": false` marks a parameter that the provider's model for input images
does not take (Kling's image-to-video has no aspect ratio): a start with images leaves
it out and refuses it when given.
"""

import re
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ValidationFailed

PARAM_TYPES = ("choice", "integer", "boolean")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SPEC_KEYS = {
    "choice": {"type", "choices", "default", "required", "with_images"},
    "integer": {"type", "min", "max", "default", "required", "with_images"},
    "boolean": {"type", "default", "required", "with_images"},
}


def _is_int(value: Any) -> bool:
    # bool is a subclass of int in Python, but `true` is not a number in JSON.
    return isinstance(value, int) and not isinstance(value, bool)


def _same_json_value(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def params_schema_problems(schema: Any) -> list[str]:
    """What is wrong with a schema staff wrote (empty when it is usable)."""
    if not isinstance(schema, dict):
        return ["The parameters must be a JSON object of name -> spec."]
    problems: list[str] = []
    for name, spec in schema.items():
        if not _PARAM_NAME.match(name):
            problems.append(f"{name!r}: names are lower_snake_case, at most 32 characters.")
            continue
        if not isinstance(spec, dict) or spec.get("type") not in PARAM_TYPES:
            problems.append(f"{name}: a spec is an object with a type in {', '.join(PARAM_TYPES)}.")
            continue
        kind = spec["type"]
        unknown = set(spec) - _SPEC_KEYS[kind]
        if unknown:
            problems.append(f"{name}: unknown keys {', '.join(sorted(unknown))}.")
        for flag in ("required", "with_images"):
            if flag in spec and not isinstance(spec[flag], bool):
                problems.append(f"{name}: {flag} is true or false.")
        if kind == "choice":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                problems.append(f"{name}: choices is a non-empty list.")
                continue
            if not all(isinstance(c, str) or _is_int(c) for c in choices):
                problems.append(f"{name}: choices are strings or integers.")
            elif len({(type(c), c) for c in choices}) != len(choices):
                problems.append(f"{name}: choices repeat.")
            if "default" in spec and not any(_same_json_value(spec["default"], c) for c in choices):
                problems.append(f"{name}: the default is not one of the choices.")
        elif kind == "integer":
            low, high = spec.get("min"), spec.get("max")
            if (low is not None and not _is_int(low)) or (high is not None and not _is_int(high)):
                problems.append(f"{name}: min and max are integers.")
                continue
            if low is not None and high is not None and low > high:
                problems.append(f"{name}: min is above max.")
            if "default" in spec and not _integer_fits(spec["default"], low, high):
                problems.append(f"{name}: the default is not an integer within min and max.")
        elif "default" in spec and not isinstance(spec["default"], bool):
            problems.append(f"{name}: the default is true or false.")
    return problems


def _integer_fits(value: Any, low: int | None, high: int | None) -> bool:
    return _is_int(value) and (low is None or value >= low) and (high is None or value <= high)


def params_clean(
    *, schema: dict[str, dict[str, Any]], params: dict[str, Any], with_images: bool = False
) -> dict[str, Any]:
    """`params` checked against the model's schema, with defaults filled in; with input
    images, the parameters marked `"with_images": false` are left out.

    Raises ValidationFailed with `details = {"params": {name: [message]}}` naming
    every bad, missing or unknown parameter.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in params:
        if name not in schema:
            errors[name] = [_("Unknown parameter.")]
        elif with_images and schema[name].get("with_images") is False:
            errors[name] = [_("This parameter is not used with input images.")]
    for name, spec in schema.items():
        if with_images and spec.get("with_images") is False:
            continue
        if name not in params:
            if "default" in spec:
                cleaned[name] = spec["default"]
            elif spec.get("required"):
                errors[name] = [_("This parameter is required.")]
            continue
        value = params[name]
        problem = _value_problem(spec, value)
        if problem:
            errors[name] = [problem]
        else:
            cleaned[name] = value
    if errors:
        raise ValidationFailed(_("Some parameters are invalid."), details={"params": errors})
    return cleaned


def _value_problem(spec: dict[str, Any], value: Any) -> str | None:
    kind = spec["type"]
    if kind == "choice":
        choices = spec["choices"]
        if not any(_same_json_value(value, choice) for choice in choices):
            return _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(c) for c in choices)}
        return None
    if kind == "integer":
        low, high = spec.get("min"), spec.get("max")
        if not _is_int(value):
            return _("Enter a whole number.")
        if low is not None and value < low:
            return _("Enter a number of at least %(min)d.") % {"min": low}
        if high is not None and value > high:
            return _("Enter a number of at most %(max)d.") % {"max": high}
        return None
    if not isinstance(value, bool):
        return _("Enter true or false.")
    return None
