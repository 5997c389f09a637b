"""The fake Bot API refuses what Telegram refuses, with Telegram's error_code and
description, and refuses parameters a method does not have (Telegram would silently
ignore them; the fake makes our typos fail)."""

import json

import pytest
import requests
from django.conf import settings

from tests.fakes.telegram_rules import html_text
from tests.fakes.test_fake_telegram import png


def call(fake, method: str, **kwargs) -> tuple[int, dict]:
    response = requests.post(f"{fake.base_url}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}", timeout=10, **kwargs)
    return response.status_code, response.json()


def refused(fake, method: str, **kwargs) -> str:
    status, body = call(fake, method, **kwargs)
    assert body["ok"] is False and body["error_code"] == status, body
    return f"{status} {body['description']}"


def test_text_longer_than_4096_utf16_units_is_too_long(fake_telegram):
    assert call(fake_telegram, "sendMessage", json={"chat_id": 1, "text": "x" * 4096})[1]["ok"]
    assert refused(fake_telegram, "sendMessage", json={"chat_id": 1, "text": "x" * 4097}) == \
        "400 Bad Request: message is too long"
    # An emoji is two UTF-16 units, as Telegram counts.
    assert refused(fake_telegram, "editMessageText", json={"chat_id": 1, "message_id": 2, "text": "🍌" * 2049}) == \
        "400 Bad Request: message is too long"
    assert refused(fake_telegram, "sendMessage", json={"chat_id": 1, "text": "  "}) == \
        "400 Bad Request: message text is empty"


def test_caption_longer_than_1024_is_too_long(fake_telegram):
    ok = call(fake_telegram, "sendPhoto", data={"chat_id": 1, "caption": "c" * 1024},
              files={"photo": ("p.png", png(), "image/png")})
    assert ok[1]["ok"], ok
    assert refused(fake_telegram, "sendPhoto", data={"chat_id": 1, "caption": "c" * 1025},
                   files={"photo": ("p.png", png(), "image/png")}) == "400 Bad Request: message caption is too long"
    media = [{"type": "photo", "media": "attach://one", "caption": "c" * 1025}]
    assert refused(fake_telegram, "sendMediaGroup", data={"chat_id": 1, "media": json.dumps(media)},
                   files={"one": ("p.png", png(), "image/png")}) == "400 Bad Request: message caption is too long"


def test_html_is_parsed_as_telegram_parses_it(fake_telegram):
    good = {"chat_id": 1, "parse_mode": "HTML", "text": '<b>bold</b> &amp; <a href="https://t.me/x">link</a> &lt;3'}
    assert call(fake_telegram, "sendMessage", json=good)[1]["ok"]
    assert html_text(str(good["text"])) == "bold & link <3"
    # Markup does not count towards the limit; the text does.
    assert call(fake_telegram, "sendMessage", json={"chat_id": 1, "parse_mode": "HTML",
                                                    "text": "<b>" + "x" * 4096 + "</b>"})[1]["ok"]
    cases = {
        "<b>open": "Can't find end tag corresponding to start tag \"b\"",
        "1 < 2": "Unclosed start tag at byte offset 2",
        "<div>x</div>": 'Unsupported start tag "div" at byte offset 0',
        "x</b>": "Unexpected end tag at byte offset 1",
        "fish & chips": "Character entity expected at byte offset 5",
    }
    for text, reason in cases.items():
        assert refused(fake_telegram, "sendMessage", json={"chat_id": 1, "parse_mode": "HTML", "text": text}) == \
            f"400 Bad Request: can't parse entities: {reason}"
    # Without parse_mode the same text is plain.
    assert call(fake_telegram, "sendMessage", json={"chat_id": 1, "text": "1 < 2 & <b>"})[1]["ok"]


def test_callback_data_is_1_to_64_bytes(fake_telegram):
    def keyboard(data: str) -> dict:
        button = {"text": "a", "callback_data": data}
        return {"chat_id": 1, "text": "pick", "reply_markup": {"inline_keyboard": [[button]]}}

    assert call(fake_telegram, "sendMessage", json=keyboard("x" * 64))[1]["ok"]
    assert refused(fake_telegram, "sendMessage", json=keyboard("x" * 65)) == "400 Bad Request: BUTTON_DATA_INVALID"
    assert refused(fake_telegram, "sendMessage", json=keyboard("я" * 33)) == "400 Bad Request: BUTTON_DATA_INVALID"


def test_a_web_app_button_only_in_a_private_chat(fake_telegram):
    markup = {"inline_keyboard": [[{"text": "Open", "web_app": {"url": "https://app.example.com/"}}]]}
    assert call(fake_telegram, "sendMessage", json={"chat_id": 5, "text": "hi", "reply_markup": markup})[1]["ok"]
    assert refused(fake_telegram, "sendMessage", json={"chat_id": -1001234, "text": "hi", "reply_markup": markup}) == \
        "400 Bad Request: BUTTON_TYPE_INVALID"


@pytest.mark.parametrize(("size", "reason"), [
    ((10_001, 10), "PHOTO_INVALID_DIMENSIONS"),  # width + height over 10000
    ((2100, 100), "PHOTO_INVALID_DIMENSIONS"),  # sides 21:1
])
def test_photos_telegram_cannot_take(fake_telegram, size, reason):
    assert refused(fake_telegram, "sendPhoto", data={"chat_id": 1},
                   files={"photo": ("p.png", png(*size), "image/png")}) == f"400 Bad Request: {reason}"


def test_a_photo_over_10_mb_or_not_an_image(fake_telegram):
    big = png() + b"\0" * (10 * 1024 * 1024)
    assert refused(fake_telegram, "sendPhoto", data={"chat_id": 1}, files={"photo": ("p.png", big, "image/png")}) \
        == "400 Bad Request: PHOTO_SAVE_FILE_INVALID"
    assert refused(fake_telegram, "sendPhoto", data={"chat_id": 1},
                   files={"photo": ("p.png", b"not a picture", "image/png")}) == "400 Bad Request: IMAGE_PROCESS_FAILED"
    # The same file as a document is fine.
    assert call(fake_telegram, "sendDocument", data={"chat_id": 1},
                files={"document": ("p.png", big, "image/png")})[1]["ok"]


def test_uploads_over_50_mb_are_too_large(fake_telegram):
    huge = b"\0" * (50 * 1024 * 1024 + 1)
    assert refused(fake_telegram, "sendDocument", data={"chat_id": 1},
                   files={"document": ("big.bin", huge, "application/octet-stream")}) == "413 Request Entity Too Large"


def test_unknown_methods_and_parameters(fake_telegram):
    assert refused(fake_telegram, "sendMesage", json={"chat_id": 1, "text": "x"}) == "404 Not Found"
    assert refused(fake_telegram, "sendMessage", json={"chat_id": 1, "text": "x", "parse_mod": "HTML"}) == \
        "400 Bad Request: unknown parameter 'parse_mod' of sendMessage; Telegram would ignore it"
    # Files named by attach:// are part of the request, whatever their field name.
    media = [{"type": "photo", "media": "attach://first"}, {"type": "photo", "media": "attach://second"}]
    status, body = call(fake_telegram, "sendMediaGroup", data={"chat_id": 1, "media": json.dumps(media)},
                        files={"first": ("a.png", png(), "image/png"), "second": ("b.png", png(), "image/png")})
    assert status in (200, 404), body  # no default result for media groups: known, but not scripted
    assert body.get("description") != "Bad Request: unknown parameter", body
