"""Telegram Mini App init data: validation and (for devlogin and tests) signing.

https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
The hash is HMAC-SHA256 of the data-check string (every field but `hash`, as
`key=value`, sorted by key, joined by newlines) under the secret key
HMAC-SHA256(key="WebAppData", msg=bot_token).
"""

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

# Real init data is well under 2 KB; anything far larger is not from Telegram.
MAX_INIT_DATA_LENGTH = 8192
# Telegram's clock and ours may disagree by a moment; more than this is a forgery
# or a broken client.
FUTURE_TOLERANCE_SECONDS = 5


class InitDataInvalid(Exception):
    code = "AUTH_INVALID"


class InitDataExpired(InitDataInvalid):
    code = "AUTH_EXPIRED"


@dataclass(frozen=True)
class TelegramUser:
    id: int
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    language_code: str = ""
    is_premium: bool = False


@functools.lru_cache(maxsize=8)
def _secret_key(bot_token: str) -> bytes:
    # Once per bot token and process, not on every authenticated request.
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def init_data_hash(fields: dict[str, str], *, bot_token: str) -> str:
    return hmac.new(_secret_key(bot_token), _data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def init_data_sign(fields: dict[str, Any], *, bot_token: str) -> str:
    """Init data as Telegram would send it: the fields plus their `hash`."""
    as_text = {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in fields.items()}
    as_text["hash"] = init_data_hash(as_text, bot_token=bot_token)
    return urlencode(as_text)


def init_data_parse(init_data: str) -> dict[str, str]:
    if not init_data or len(init_data) > MAX_INIT_DATA_LENGTH:
        raise InitDataInvalid("init data is empty or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InitDataInvalid("init data is not a query string") from exc
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            # A repeated key makes the data-check string ambiguous: refuse it.
            raise InitDataInvalid(f"duplicate key {key!r}")
        fields[key] = value
    return fields


def init_data_validate(
    init_data: str, *, bot_token: str, max_age: int, now: float | None = None
) -> tuple[dict[str, str], TelegramUser]:
    """Check the signature and age of `init_data`; return its fields and user."""
    if not bot_token:
        raise InitDataInvalid("no bot token is configured")
    fields = init_data_parse(init_data)
    received = fields.get("hash", "")
    expected = init_data_hash(fields, bot_token=bot_token)
    if not hmac.compare_digest(received.encode(), expected.encode()):
        raise InitDataInvalid("bad hash")

    auth_date_text = fields.get("auth_date", "")
    if not auth_date_text.isascii() or not auth_date_text.isdigit():
        raise InitDataInvalid("auth_date is missing or not a number")
    auth_date = int(auth_date_text)
    current = time.time() if now is None else now
    if auth_date > current + FUTURE_TOLERANCE_SECONDS:
        raise InitDataInvalid("auth_date is in the future")
    if current - auth_date > max_age:
        raise InitDataExpired("init data is too old")

    return fields, _telegram_user(fields.get("user"))


def _telegram_user(raw: str | None) -> TelegramUser:
    if not raw:
        raise InitDataInvalid("no user field")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InitDataInvalid("user is not JSON") from exc
    if not isinstance(data, dict):
        raise InitDataInvalid("user is not an object")
    user_id = data.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**63:
        raise InitDataInvalid("user.id is not a positive integer")

    def text(key: str, limit: int) -> str:
        value = data.get(key)
        return value[:limit] if isinstance(value, str) else ""

    return TelegramUser(
        id=user_id,
        first_name=text("first_name", 150),
        last_name=text("last_name", 150),
        username=text("username", 64),
        language_code=text("language_code", 16),
        is_premium=data.get("is_premium") is True,
    )
