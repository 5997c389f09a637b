"""The start body's fast check (`start_body_parse`) accepts only what the serializer
accepts, with the same validated data; everything else goes to the serializer, which
refuses it with its own messages (tests/generations/api/test_start_validation.py)."""

from typing import Any

import pytest

from generations.api.generations import GenerationStartInputSerializer, start_body_parse

BODIES: list[tuple[Any, str | None]] = [
    ({"model": "nano-banana", "prompt": "a red fox"}, None),
    ({"model": " nano-banana ", "prompt": "  a red fox \n"}, None),
    ({"model": "nano-banana"}, None),
    ({"model": "nano-banana", "prompt": ""}, None),
    ({"model": "nano-banana", "prompt": "x", "params": {"aspect_ratio": "16:9", "n": 2, "on": None}}, None),
    ({"model": "nano-banana", "prompt": "x", "images": [" 6d1c0b34-0000-4000-8000-000000000000 "]}, None),
    ({"model": "nano-banana", "prompt": "x", "images": []}, None),
    ({"model": "nano-banana", "prompt": "x", "idempotency_key": "key-1"}, None),
    ({"model": "nano-banana", "prompt": "x", "idempotency_key": "key-1"}, "key-1"),
    ({"model": "nano-banana", "prompt": "x"}, "header-key"),
    ({"model": "nano-banana", "prompt": "x", "unknown": 1}, None),
    # Refused (or odd): the serializer decides.
    ({"model": "nano-banana", "prompt": "x", "idempotency_key": "key-1"}, "key-2"),
    ({"model": "nano-banana", "prompt": "x"}, "bad key!"),
    ({"model": "nano-banana", "prompt": "x", "idempotency_key": " key"}, None),
    ({"model": "nano-banana", "prompt": "x", "idempotency_key": ""}, None),
    ({"model": "nano-banana", "prompt": "x", "idempotency_key": None}, None),
    ({"model": "", "prompt": "x"}, None),
    ({"model": "   ", "prompt": "x"}, None),
    ({"model": 5, "prompt": "x"}, None),
    ({"model": "nano-banana", "prompt": None}, None),
    ({"model": "nano-banana", "prompt": 7}, None),
    ({"model": "nano-banana", "prompt": "x" * 2001}, None),
    ({"model": "nano-banana", "prompt": " " + "x" * 2000 + " "}, None),
    ({"model": "nano-banana", "prompt": "a\x00b"}, None),
    ({"model": "nano-banana", "prompt": "a\ud800b"}, None),
    ({"model": "nano-banana", "prompt": "x", "params": None}, None),
    ({"model": "nano-banana", "prompt": "x", "params": [1]}, None),
    ({"model": "nano-banana", "prompt": "x", "images": "abc"}, None),
    ({"model": "nano-banana", "prompt": "x", "images": [" "]}, None),
    ({"model": "nano-banana", "prompt": "x", "images": [1]}, None),
    ({"model": "nano-banana", "prompt": "x", "images": ["a"] * 11}, None),
    ({"prompt": "x"}, None),
    (["not", "an", "object"], None),
]


@pytest.mark.parametrize(("body", "header_key"), BODIES)
def test_the_fast_check_agrees_with_the_serializer(body, header_key):
    serializer = GenerationStartInputSerializer(data=body, context={"header_idempotency_key": header_key})
    valid = serializer.is_valid()
    parsed = start_body_parse(body, header_key)
    if parsed is not None:
        assert valid, serializer.errors
        assert parsed == dict(serializer.validated_data)


def test_common_bodies_take_the_fast_check():
    for body, header_key in BODIES[:11]:
        assert start_body_parse(body, header_key) is not None, body
