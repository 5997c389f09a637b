"""Init data validation against published vectors and every kind of bad input."""

import json
import time
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from accounts.telegram_init_data import (
    InitDataExpired,
    InitDataInvalid,
    init_data_hash,
    init_data_sign,
    init_data_validate,
)

# aiogram's published test vector (tests/test_utils/test_web_app.py), bot token 42:TEST.
AIOGRAM_TOKEN = "42:TEST"
AIOGRAM_INIT_DATA = (
    "auth_date=1650385342"
    "&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D"
    "&query_id=test"
    "&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803"
)
AIOGRAM_NOW = 1650385342 + 60
TOKEN = "123456:TEST-TOKEN"

# init-data-golang's published test vector (validate_test.go).
GOLANG_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
GOLANG_INIT_DATA = (
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc"
    "&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22"
    "%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D"
    "&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
)
GOLANG_NOW = 1662771648 + 60


def validate(init_data: str, *, token: str = TOKEN, max_age: int = 86400, now: float | None = None):
    return init_data_validate(init_data, bot_token=token, max_age=max_age, now=now)


def signed(**overrides) -> str:
    fields = {"auth_date": str(int(time.time())), "user": json.dumps({"id": 7, "first_name": "Ann"})}
    fields.update(overrides)
    return init_data_sign(fields, bot_token=TOKEN)


def test_aiogram_vector_is_valid():
    fields, user = validate(AIOGRAM_INIT_DATA, token=AIOGRAM_TOKEN, now=AIOGRAM_NOW)
    assert user.id == 42
    assert user.first_name == "Test"
    assert fields["query_id"] == "test"


def test_init_data_golang_vector_is_valid():
    _, user = validate(GOLANG_INIT_DATA, token=GOLANG_TOKEN, now=GOLANG_NOW)
    assert (user.id, user.username, user.language_code, user.is_premium) == (279058397, "vdkfrost", "ru", True)


def test_init_data_golang_vector_expires():
    with pytest.raises(InitDataExpired):
        validate(GOLANG_INIT_DATA, token=GOLANG_TOKEN, now=GOLANG_NOW + 86400)


def test_aiogram_vector_with_another_token_is_invalid():
    with pytest.raises(InitDataInvalid):
        validate(AIOGRAM_INIT_DATA, token="42:INVALID", now=AIOGRAM_NOW)


def test_field_order_does_not_matter():
    pairs = parse_qsl(AIOGRAM_INIT_DATA)
    reordered = urlencode(list(reversed(pairs)))
    _, user = validate(reordered, token=AIOGRAM_TOKEN, now=AIOGRAM_NOW)
    assert user.id == 42


def test_signature_field_is_part_of_the_checked_data():
    # Newer clients send `signature` (third-party validation); it is covered by `hash`.
    data = signed(signature="abc")
    validate(data)
    with pytest.raises(InitDataInvalid):
        validate(data.replace("signature=abc", "signature=abd"))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace("%22id%22%3A42", "%22id%22%3A43"),  # another user
        lambda d: d.replace("auth_date=1650385342", "auth_date=1650385343"),
        lambda d: d.replace("query_id=test", "query_id=tesT"),
        lambda d: d.replace("hash=46d2", "hash=46d3"),
        lambda d: d + "&extra=1",
        lambda d: d.replace("&query_id=test", ""),
    ],
)
def test_tampered_data_is_invalid(tamper):
    with pytest.raises(InitDataInvalid) as info:
        validate(tamper(AIOGRAM_INIT_DATA), token=AIOGRAM_TOKEN, now=AIOGRAM_NOW)
    assert not isinstance(info.value, InitDataExpired)


def test_duplicated_key_is_invalid_even_when_one_copy_is_signed():
    data = signed()
    evil_user = quote(json.dumps({"id": 99, "first_name": "Eve"}))
    with pytest.raises(InitDataInvalid):
        validate(f"{data}&user={evil_user}")
    with pytest.raises(InitDataInvalid):
        validate(f"user={evil_user}&{data}")


def test_expired_init_data():
    old = int(time.time()) - 86400 - 10
    with pytest.raises(InitDataExpired):
        validate(signed(auth_date=str(old)))


def test_max_age_is_respected():
    ten_minutes_ago = str(int(time.time()) - 600)
    validate(signed(auth_date=ten_minutes_ago), max_age=3600)
    with pytest.raises(InitDataExpired):
        validate(signed(auth_date=ten_minutes_ago), max_age=300)


def test_future_dated_init_data_is_invalid():
    with pytest.raises(InitDataInvalid) as info:
        validate(signed(auth_date=str(int(time.time()) + 3600)))
    assert not isinstance(info.value, InitDataExpired)


@pytest.mark.parametrize(
    "init_data",
    [
        "",
        "hash=",
        "auth_date=1650385342&user=%7B%22id%22%3A42%7D",  # no hash
        "not a query string",
        "a=1&&b=2",
        "%%%",
        "x" * 10000,
    ],
)
def test_malformed_init_data_is_invalid(init_data):
    with pytest.raises(InitDataInvalid):
        validate(init_data, now=AIOGRAM_NOW)


@pytest.mark.parametrize(
    "fields",
    [
        {"auth_date": "soon"},
        {"auth_date": "\uff11\uff12\uff13"},  # full-width digits are not a timestamp
        {"user": "not json"},
        {"user": "[1, 2]"},
        {"user": json.dumps({"first_name": "No id"})},
        {"user": json.dumps({"id": "42"})},
        {"user": json.dumps({"id": True})},
        {"user": json.dumps({"id": -5})},
        {"user": json.dumps({"id": 2**70})},
    ],
)
def test_signed_but_unusable_fields_are_invalid(fields):
    base = {"auth_date": str(int(time.time())), "user": json.dumps({"id": 7})}
    base.update(fields)
    with pytest.raises(InitDataInvalid):
        validate(init_data_sign(base, bot_token=TOKEN))


def test_user_without_user_field_is_invalid():
    with pytest.raises(InitDataInvalid):
        validate(init_data_sign({"auth_date": str(int(time.time()))}, bot_token=TOKEN))


def test_non_ascii_hash_is_invalid_not_a_crash():
    data = signed()
    with pytest.raises(InitDataInvalid):
        validate(data.split("&hash=")[0] + "&hash=%D1%85%D1%8D%D1%88")


def test_empty_bot_token_never_validates():
    fields = {"auth_date": str(int(time.time())), "user": json.dumps({"id": 7})}
    data = init_data_sign(fields, bot_token="")
    with pytest.raises(InitDataInvalid):
        validate(data, token="")


def test_hash_is_hmac_of_sorted_data_check_string():
    # The documented construction, written out independently of the module.
    import hashlib
    import hmac

    fields = {"b": "2", "a": "1", "user": '{"id":1}'}
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, b'a=1\nb=2\nuser={"id":1}', hashlib.sha256).hexdigest()
    assert init_data_hash(fields, bot_token=TOKEN) == expected
