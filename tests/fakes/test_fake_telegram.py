"""The fake Bot API server itself: the bodies python-telegram-bot and requests send,
scripted failures, recorded calls, long polling."""

import json
import threading

import pytest
import requests
from django.conf import settings


def url(fake, method: str) -> str:
    return f"{fake.base_url}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}"


def test_form_bodies_are_recorded_with_json_values_decoded(fake_telegram):
    body = {"chat_id": "42", "text": "[not json", "reply_markup": json.dumps({"inline_keyboard": [[]]})}
    answer = requests.post(url(fake_telegram, "sendMessage"), data=body, timeout=5).json()
    assert answer["ok"] is True and answer["result"]["chat"]["id"] == 42
    call = fake_telegram.last("sendMessage")
    assert call.params == {"chat_id": "42", "text": "[not json", "reply_markup": {"inline_keyboard": [[]]}}


def png(width: int = 8, height: int = 8) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(out, "PNG")
    return out.getvalue()


def test_multipart_bodies_keep_uploaded_files(fake_telegram):
    picture = png()
    answer = requests.post(
        url(fake_telegram, "sendPhoto"),
        data={"chat_id": "7", "caption": "a cat"},
        files={"photo": ("cat.png", picture, "image/png")},
        timeout=5,
    ).json()
    assert answer["ok"] and answer["result"]["photo"][0]["file_id"]
    call = fake_telegram.last("sendPhoto")
    assert call["caption"] == "a cat"
    photo = call["photo"]
    assert (photo.filename, photo.content_type, photo.content) == ("cat.png", "image/png", picture)


def test_defaults_for_the_methods_the_project_uses(fake_telegram):
    for method in ("setWebhook", "answerPreCheckoutQuery", "setChatMenuButton"):
        assert requests.post(url(fake_telegram, method), json={}, timeout=5).json() == {"ok": True, "result": True}
    me = requests.post(url(fake_telegram, "getMe"), timeout=5).json()["result"]
    assert me["is_bot"] and me["username"]
    link = requests.post(url(fake_telegram, "createInvoiceLink"), json={
        "title": "t", "description": "d", "payload": "p", "currency": "XTR", "prices": [{"label": "x", "amount": 5}],
    }, timeout=5).json()["result"]
    assert link.startswith("https://t.me/$")
    invoice = requests.post(
        url(fake_telegram, "sendInvoice"),
        json={"chat_id": 5, "title": "t", "currency": "XTR", "prices": [{"label": "x", "amount": 50}]},
        timeout=5,
    ).json()["result"]
    assert invoice["invoice"]["total_amount"] == 50
    video = requests.post(url(fake_telegram, "sendVideo"), json={"chat_id": 5, "video": "v1"}, timeout=5).json()
    assert video["result"]["video"]["file_id"] == "v1"


def test_scripted_failures_count_down_and_can_last(fake_telegram):
    fake_telegram.fail("sendMessage", error_code=500, description="Internal", times=2)
    body = {"chat_id": 1, "text": "x"}
    codes = [requests.post(url(fake_telegram, "sendMessage"), json=body, timeout=5).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    fake_telegram.fail("getMe", error_code=502, description="Bad Gateway", times=None)
    assert all(requests.post(url(fake_telegram, "getMe"), timeout=5).status_code == 502 for _ in range(3))
    answer = requests.post(url(fake_telegram, "getMe"), timeout=5).json()
    assert answer == {"ok": False, "error_code": 502, "description": "Bad Gateway"}


def test_a_custom_response(fake_telegram):
    fake_telegram.respond("getChat", lambda call: {"id": int(call["chat_id"]), "type": "private"})
    answer = requests.post(url(fake_telegram, "getChat"), json={"chat_id": 9}, timeout=5).json()
    assert answer["result"] == {"id": 9, "type": "private"}


def test_calls_from_many_threads_are_all_recorded(fake_telegram):
    def send(i: int) -> None:
        requests.post(url(fake_telegram, "sendMessage"), json={"chat_id": i, "text": "x"}, timeout=5)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    calls = fake_telegram.wait_for("sendMessage", count=20)
    for thread in threads:
        thread.join()
    assert sorted(call["chat_id"] for call in calls) == list(range(20))


def test_wait_for_gives_up_with_a_clear_message(fake_telegram):
    with pytest.raises(AssertionError, match="sendVideo called 0 times"):
        fake_telegram.wait_for("sendVideo", timeout=0.05)


def test_get_updates_serves_queued_updates_until_confirmed(fake_telegram):
    first = fake_telegram.push_update({"message": {"text": "/start"}})
    second = fake_telegram.push_update({"message": {"text": "/help"}})
    updates = requests.post(url(fake_telegram, "getUpdates"), json={"offset": 0}, timeout=5).json()["result"]
    assert [u["update_id"] for u in updates] == [first, second]
    updates = requests.post(url(fake_telegram, "getUpdates"), json={"offset": second}, timeout=5).json()["result"]
    assert [u["update_id"] for u in updates] == [second]
    empty = requests.post(url(fake_telegram, "getUpdates"), json={"offset": second + 1}, timeout=5).json()
    assert empty == {"ok": True, "result": []}


def test_paths_that_are_not_bot_methods_are_404(fake_telegram):
    assert requests.get(f"{fake_telegram.base_url}/nothing", timeout=5).status_code == 404


def test_python_telegram_bot_talks_to_the_fake(fake_telegram):
    import asyncio

    from telegram import Bot

    async def talk() -> tuple:
        async with Bot(settings.TELEGRAM_BOT_TOKEN, base_url=fake_telegram.bot_base_url) as bot:
            me = await bot.get_me()
            message = await bot.send_message(chat_id=42, text="hello")
            photo = await bot.send_photo(chat_id=42, photo=png(), caption="a cat")
            return me, message, photo

    me, message, photo = asyncio.run(talk())
    assert me.username and message.text == "hello" and message.chat.id == 42
    assert photo.photo and photo.caption == "a cat"
    sent = fake_telegram.last("sendPhoto")
    assert sent["chat_id"] == "42" and sent["photo"].content == png()


def test_the_global_rate_limit_answers_429_like_telegram(fake_telegram):
    from core.telegram_api import TelegramApiError, bot_api_call

    now = [1000.0]
    fake_telegram.global_rate_clock = lambda: now[0]
    fake_telegram.global_rate_limit(3)
    for chat in (1, 2, 3):
        bot_api_call("sendMessage", {"chat_id": chat, "text": "x"})
    now[0] += 0.4
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("sendPhoto", {"chat_id": 4, "photo": "file-id"})
    assert (info.value.error_code, info.value.retry_after) == (429, 1)
    assert info.value.description == "Too Many Requests: retry after 1"
    assert bot_api_call("getMe")["is_bot"]  # not a message: not limited
    now[0] += 0.6  # the first three leave the window
    bot_api_call("sendMessage", {"chat_id": 4, "text": "x"})
    assert fake_telegram.global_rate_limited == 1
    fake_telegram.global_rate_limit(None)
    for chat in range(10):
        bot_api_call("sendMessage", {"chat_id": chat, "text": "x"})
