"""The API's one body parser: JSON, refused (400 VALIDATION_ERROR) unless it is
plain data every later step can handle.

Python's `json` accepts what later steps cannot: text with lone surrogates
(`"\\ud800"`, which no UTF-8 encoder, hence no renderer or database, can write),
`NaN` and `Infinity`, integers of any size (PostgreSQL's bigint stops at 2^63-1),
and nesting thousands deep (RecursionError, or recursion later). Each of these
used to surface as a 500 somewhere downstream; here it is a ParseError, which the
exception handler renders as the contract's 400.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

# No API body legitimately nests deeper than this ({"params": {"x": [..]}} is 3).
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """Parsed JSON that no later step can take. `field` is the top-level member that
    holds the problem (the API reports it there), None when it is the body itself."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _constant_refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_strict_loads(text: str | bytes) -> Any:
    """`json.loads` that raises ValueError (JsonRefused for parsed but unusable data)
    for anything described in the module docstring."""
    try:
        data = json.loads(text, parse_constant=_constant_refuse)
    except RecursionError:
        raise JsonRefused(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    json_strict_check(data)
    return data


def json_strict_check(data: Any) -> None:
    """Raise JsonRefused if parsed JSON holds a lone surrogate, a non-finite or 64-bit
    overflowing number, or nests deeper than MAX_DEPTH. Iterative: no recursion limit."""
    if isinstance(data, dict):
        for key in data:
            _text_check(key, field=None)
        stack: list[tuple[Any, int, str | None]] = [(value, 2, key) for key, value in data.items()]
    else:
        stack = [(data, 1, None)]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise JsonRefused(f"JSON nested deeper than {MAX_DEPTH} levels", field=field)
            if isinstance(value, dict):
                for key, item in value.items():
                    _text_check(key, field=field)
                    stack.append((item, depth + 1, field))
            else:
                stack.extend((item, depth + 1, field) for item in value)
        elif isinstance(value, str):
            _text_check(value, field=field)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise JsonRefused(_("Numbers must lie within the 64-bit range."), field=field)
        elif isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise JsonRefused(_("Numbers must lie within the 64-bit range."), field=field)


def _text_check(text: str, *, field: str | None) -> None:
    if _SURROGATE.search(text):
        raise JsonRefused(_("Text must be valid Unicode (no unpaired surrogates)."), field=field)


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return json_body_parse(stream.read(), encoding)


def json_body_parse(body: bytes, encoding: str) -> Any:
    """StrictJSONParser's work on a body already read (for a view that runs without
    DRF's request): its data, or ParseError / ValidationError, as the parser raises."""
    try:
        return json_strict_loads(body.decode(encoding))
    except JsonRefused as exc:
        if exc.field is not None:
            raise ValidationError({exc.field: [str(exc)]}) from None
        raise ParseError(_("JSON parse error - %s") % exc) from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
        raise ParseError(_("JSON parse error - %s") % exc) from None
