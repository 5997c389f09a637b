"""Rules over a generation's parameters: what it costs (the price rule) and how long the
provider may take (the timeout rule). Staff write them per catalog model as JSON:

    {"base": 12,
     "factors": {"duration": "value", "resolution": {"480p": 0.5, "720p": 1, "1080p": 2.25}},
     "per_image": 2}

The result is `ceil(base * every factor) + per_image * input images`:

- `base` (a number > 0): credits (or seconds) for the parameters' neutral values;
- `factors` (optional): per parameter of the model, either a table from each of its
  values, written as text ("10", "1080p", "true"), to a number > 0, or "value": the
  parameter's own value (whole numbers of 1 or more, e.g. `num_images` or the seconds
  of a video's `duration`).
  A parameter the start leaves out (optional, or not used with input images) counts 1;
- `per_image` (optional, >= 0): added per input image, where the provider bills them.

An empty rule means "no rule": the model's flat `price` (or GENERATION_TIMEOUT_SECONDS).
Numbers are read as decimals, so 0.1 * 3 is exactly 0.3 and rounding never surprises.
"""

import math
from decimal import Decimal
from typing import Any

from django.conf import settings

from generations.models import AIModel

RULE_KEYS = {"base", "factors", "per_image"}
VALUE = "value"
# An integer parameter may have a table instead of "value" when its range is this short.
INTEGER_TABLE_MAX = 50


def model_price(*, model: AIModel, params: dict[str, Any], images: int = 0) -> int:
    """Credits a generation of `model` costs with these cleaned parameters and images:
    its price rule's figure, or the flat `price` of a model without one."""
    if not model.price_rule:
        return model.price
    return rule_apply(rule=model.price_rule, params=params, images=images)


def model_default_price(*, model: AIModel) -> int:
    """The price with the default parameters and no images (what the catalog shows)."""
    defaults = {name: spec["default"] for name, spec in model.params_schema.items() if "default" in spec}
    return model_price(model=model, params=defaults)


def model_timeout_seconds(*, model: AIModel, params: dict[str, Any], images: int = 0) -> int:
    """How long the provider may take: the timeout rule's figure in seconds, or
    GENERATION_TIMEOUT_SECONDS for a model without one."""
    if not model.timeout_rule:
        return int(settings.GENERATION_TIMEOUT_SECONDS)
    return rule_apply(rule=model.timeout_rule, params=params, images=images)


def rule_apply(*, rule: dict[str, Any], params: dict[str, Any], images: int = 0) -> int:
    """The rule's figure for these (cleaned) parameters and this many input images.

    The rule must be one `rule_problems` accepts (the admin checks it on save); a value
    missing from a table counts 1 rather than failing a start.
    """
    total = _decimal(rule["base"])
    for name, factor in (rule.get("factors") or {}).items():
        if name not in params:
            continue
        value = params[name]
        if factor == VALUE:
            total *= Decimal(int(value))
        else:
            total *= _decimal(factor.get(value_key(value), 1))
    return math.ceil(total) + math.ceil(_decimal(rule.get("per_image", 0)) * images)


def value_key(value: Any) -> str:
    """A parameter's value as a key of a factor table: 10 -> "10", True -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decimal(number: Any) -> Decimal:
    return Decimal(str(number))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _positive(value: Any) -> bool:
    return _is_number(value) and value > 0


def rule_problems(rule: Any, *, schema: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with a rule staff wrote for a model with these parameters (empty
    when it is usable). `{}` (no rule) is fine."""
    if rule in ({}, None):
        return []
    if not isinstance(rule, dict):
        return ['A rule is a JSON object: {"base": ..., "factors": {...}, "per_image": ...}.']
    problems: list[str] = []
    unknown = set(rule) - RULE_KEYS
    if unknown:
        problems.append(f"Unknown keys {', '.join(sorted(unknown))}; a rule has base, factors and per_image.")
    if not _positive(rule.get("base")):
        problems.append("base is a number above 0.")
    per_image = rule.get("per_image", 0)
    if not _is_number(per_image) or per_image < 0:
        problems.append("per_image is a number, 0 or more.")
    factors = rule.get("factors", {})
    if not isinstance(factors, dict):
        return [*problems, 'factors is an object: {"parameter": {"value": number, ...} or "value"}.']
    for name, factor in factors.items():
        spec = schema.get(name) if isinstance(schema, dict) else None
        if not isinstance(spec, dict):
            problems.append(f"{name}: not a parameter of this model.")
            continue
        problems.extend(_factor_problems(name, factor, spec))
    return problems


def _factor_problems(name: str, factor: Any, spec: dict[str, Any]) -> list[str]:
    kind = spec.get("type")
    if factor == VALUE:
        choices = spec.get("choices") if kind == "choice" else None
        counts = (kind == "integer" and isinstance(spec.get("min"), int) and spec["min"] >= 1) or (
            isinstance(choices, list) and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1
                                              for c in choices)
        )
        if not counts:
            return [f'{name}: "value" needs a parameter whose values are whole numbers of 1 or more.']
        return []
    if not isinstance(factor, dict) or not factor:
        return [f'{name}: a factor is "value" or a table {{"<value>": number above 0, ...}}.']
    problems = [f"{name}: the factor of {key} is a number above 0." for key, number in factor.items()
                if not _positive(number)]
    if kind == "choice":
        expected = {value_key(choice) for choice in spec.get("choices", [])}
    elif kind == "boolean":
        expected = {"true", "false"}
    else:
        low, high = spec.get("min"), spec.get("max")
        if not isinstance(low, int) or not isinstance(high, int) or high - low >= INTEGER_TABLE_MAX:
            return [*problems, f'{name}: a table of an integer needs its min and max close together; use "value".']
        expected = {str(number) for number in range(low, high + 1)}
    missing = sorted(expected - set(factor))
    extra = sorted(set(factor) - expected)
    if missing:
        problems.append(f"{name}: no factor for {', '.join(missing)}.")
    if extra:
        problems.append(f"{name}: {', '.join(extra)} is not a value of this parameter.")
    return problems

