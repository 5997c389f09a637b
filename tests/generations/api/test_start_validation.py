"""Bad input to POST /api/generations: the contract's error, never a 500, nothing written."""

import json

import pytest
from django.test import override_settings

from accounts.models import CreditLedgerEntry
from generations.models import Generation
from tests.generations.api.helpers import assert_error, balance, start

pytestmark = pytest.mark.django_db

URL = "/api/generations"
GOOD = {"model": "test-image", "prompt": "a red cat"}


def body(**changes):
    data = {**GOOD, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


_DROP = object()

# (case id, JSON body or raw bytes, extra headers, status, code, details key or None)
MATRIX = [
    ("empty prompt", body(prompt=""), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("whitespace-only prompt", body(prompt=" \n\t  "), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("over-long prompt", body(prompt="x" * 2001), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("over-long after strip", body(prompt="  " + "x" * 2001 + "  "), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("missing prompt", body(prompt=_DROP), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("null prompt", body(prompt=None), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("number prompt", body(prompt=123), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("list prompt", body(prompt=["a"]), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("object prompt", body(prompt={"a": 1}), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("NUL in prompt", body(prompt="a\x00b"), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("lone surrogate in prompt", body(prompt="a\ud800b"), {}, 400, "VALIDATION_ERROR", "prompt"),
    ("NUL in a parameter name", body(params={"a\x00": 1}), {}, 400, "VALIDATION_ERROR", "params"),
    ("missing model", body(model=_DROP), {}, 400, "VALIDATION_ERROR", "model"),
    ("number model", body(model=5), {}, 400, "VALIDATION_ERROR", "model"),
    ("null model", body(model=None), {}, 400, "VALIDATION_ERROR", "model"),
    ("NUL in model", body(model="test\x00image"), {}, 400, "VALIDATION_ERROR", "model"),
    ("unknown model", body(model="no-such-model"), {}, 400, "MODEL_UNAVAILABLE", None),
    ("inactive model", body(model="test-retired"), {}, 400, "MODEL_UNAVAILABLE", None),
    ("very long model", body(model="m" * 5000), {}, 400, "MODEL_UNAVAILABLE", None),
    ("params a string", body(params="1:1"), {}, 400, "VALIDATION_ERROR", "params"),
    ("params a list", body(params=["1:1"]), {}, 400, "VALIDATION_ERROR", "params"),
    ("params null", body(params=None), {}, 400, "VALIDATION_ERROR", "params"),
    ("unknown param", body(params={"steps": 4}), {}, 400, "VALIDATION_ERROR", "params"),
    ("choice not offered", body(params={"aspect_ratio": "4:3"}), {}, 400, "VALIDATION_ERROR", "params"),
    ("choice wrong type", body(params={"aspect_ratio": 1}), {}, 400, "VALIDATION_ERROR", "params"),
    ("integer as string", body(params={"seed": "5"}), {}, 400, "VALIDATION_ERROR", "params"),
    ("integer as bool", body(params={"seed": True}), {}, 400, "VALIDATION_ERROR", "params"),
    ("integer as float", body(params={"seed": 1.5}), {}, 400, "VALIDATION_ERROR", "params"),
    ("integer below min", body(params={"seed": 0}), {}, 400, "VALIDATION_ERROR", "params"),
    ("integer above max", body(params={"seed": 1001}), {}, 400, "VALIDATION_ERROR", "params"),
    ("huge integer", body(params={"seed": 10**40}), {}, 400, "VALIDATION_ERROR", "params"),
    ("boolean as string", body(params={"raw": "yes"}), {}, 400, "VALIDATION_ERROR", "params"),
    ("boolean as number", body(params={"raw": 1}), {}, 400, "VALIDATION_ERROR", "params"),
    ("empty key", body(idempotency_key=""), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("65-char key", body(idempotency_key="k" * 65), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("key with space", body(idempotency_key="a b"), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("key with slash", body(idempotency_key="a/b"), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("non-ascii key", body(idempotency_key="ключ"), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("number key", body(idempotency_key=12345), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("null key", body(idempotency_key=None), {}, 400, "VALIDATION_ERROR", "idempotency_key"),
    ("bad header key", body(), {"HTTP_IDEMPOTENCY_KEY": "a b"}, 400, "VALIDATION_ERROR", "Idempotency-Key"),
    ("empty header key", body(), {"HTTP_IDEMPOTENCY_KEY": ""}, 400, "VALIDATION_ERROR", "Idempotency-Key"),
    ("long header key", body(), {"HTTP_IDEMPOTENCY_KEY": "h" * 65}, 400, "VALIDATION_ERROR", "Idempotency-Key"),
    ("header and body differ", body(idempotency_key="one"), {"HTTP_IDEMPOTENCY_KEY": "two"}, 400,
     "VALIDATION_ERROR", "idempotency_key"),
    ("body is a list", [GOOD], {}, 400, "VALIDATION_ERROR", "non_field_errors"),
    ("body is a string", "a red cat", {}, 400, "VALIDATION_ERROR", "non_field_errors"),
    ("body is null", None, {}, 400, "VALIDATION_ERROR", None),
    ("malformed JSON", b'{"model": "test-image", "prompt": ', {}, 400, "VALIDATION_ERROR", "body"),
    ("not UTF-8", b'{"model": "test-image", "prompt": "\xff\xfe"}', {}, 400, "VALIDATION_ERROR", "body"),
    ("empty body", b"", {}, 400, "VALIDATION_ERROR", "model"),
]


@pytest.mark.parametrize(
    ("data", "headers", "status", "code", "field"),
    [case[1:] for case in MATRIX],
    ids=[case[0] for case in MATRIX],
)
def test_bad_input_gets_the_contract_error_and_writes_nothing(
    rich_owner, owner_client, image_model, inactive_model, audit_passes, data, headers, status, code, field
):
    ledger_before = CreditLedgerEntry.objects.count()
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    response = owner_client.post(URL, data=raw, content_type="application/json", **headers)

    error = assert_error(response, status, code)
    if field is not None:
        assert field in error["details"], error
    assert not Generation.objects.exists()
    assert balance(rich_owner) == 10_000
    assert CreditLedgerEntry.objects.count() == ledger_before


def test_form_encoded_body_is_a_validation_error(rich_owner, owner_client, image_model):
    response = owner_client.post(
        URL, data="model=test-image&prompt=cat", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    assert not Generation.objects.exists()


@override_settings(API_MAX_BODY_BYTES=4096)
def test_body_over_the_size_limit_is_413(rich_owner, owner_client, image_model, audit_passes):
    response = start(owner_client, prompt="x" * 5000)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert not Generation.objects.exists()
    assert balance(rich_owner) == 10_000


def test_huge_body_under_the_default_limit_is_413(rich_owner, owner_client, image_model):
    assert_error(start(owner_client, prompt="x" * 100_000), 413, "PAYLOAD_TOO_LARGE")
    assert not Generation.objects.exists()


def test_prompt_of_exactly_the_maximum_length_is_accepted(rich_owner, owner_client, image_model):
    response = start(owner_client, prompt="y" * 2000)
    assert response.status_code == 201, response.content
    assert len(response.json()["prompt"]) == 2000


@override_settings(GENERATION_PROMPT_MAX_LENGTH=10)
def test_prompt_limit_is_a_setting(rich_owner, owner_client, image_model):
    assert_error(start(owner_client, prompt="x" * 11), 400, "VALIDATION_ERROR")
    assert start(owner_client, prompt="x" * 10).status_code == 201


def test_unicode_prompt_is_kept(rich_owner, owner_client, image_model):
    response = start(owner_client, prompt="кот на крыше 🐈")
    assert response.status_code == 201
    assert response.json()["prompt"] == "кот на крыше 🐈"


def test_unknown_top_level_fields_are_ignored_and_never_trusted(rich_owner, stranger, owner_client, image_model):
    response = start(owner_client, user_id=stranger.pk, credits_charged=0, status="completed")
    assert response.status_code == 201
    generation = Generation.objects.get()
    assert (generation.user_id, generation.credits_charged, generation.status) == (rich_owner.pk, 10, "pending")


def test_key_from_the_header_alone_is_used(rich_owner, owner_client, image_model):
    response = owner_client.post(URL, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="header-key_1.2:3")
    assert response.status_code == 201, response.content
    assert response.json()["idempotency_key"] == "header-key_1.2:3"


def test_same_key_in_header_and_body_is_fine(rich_owner, owner_client, image_model):
    response = owner_client.post(URL, {**GOOD, "idempotency_key": "same"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201, response.content
    assert response.json()["idempotency_key"] == "same"


def test_64_char_key_is_accepted(rich_owner, owner_client, image_model):
    key = "K" * 64
    assert start(owner_client, idempotency_key=key).json()["idempotency_key"] == key


def test_params_error_names_every_bad_parameter(rich_owner, owner_client, image_model):
    response = start(owner_client, params={"aspect_ratio": "7:5", "seed": "x", "steps": 3})
    details = assert_error(response, 400, "VALIDATION_ERROR")["details"]["params"]
    assert set(details) == {"aspect_ratio", "seed", "steps"}
    assert all(isinstance(messages, list) and messages for messages in details.values())
