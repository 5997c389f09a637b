"""The fake Bot API's methods for the bot as a client: they hold the code under test
to Telegram's rules (edits of known messages that change something, albums of 2-10,
each query answered once, files users sent)."""

import json

import requests
from django.conf import settings


def call(fake, method: str, **kwargs):
    response = requests.post(f"{fake.base_url}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}", timeout=5, **kwargs)
    return response.status_code, response.json()


def test_an_edit_must_name_a_message_the_bot_sent_and_change_it(fake_telegram):
    status, body = call(fake_telegram, "editMessageText", json={"chat_id": 5, "message_id": 999, "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")

    _, sent = call(fake_telegram, "sendMessage", json={"chat_id": 5, "text": "queued"})
    message_id = sent["result"]["message_id"]
    status, body = call(fake_telegram, "editMessageText", json={"chat_id": 5, "message_id": message_id, "text": "done"})
    assert status == 200 and body["result"]["text"] == "done"

    status, body = call(fake_telegram, "editMessageText", json={"chat_id": 5, "message_id": message_id, "text": "done"})
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")
    too_long = {"chat_id": 5, "message_id": message_id, "text": "x" * 4097}
    assert call(fake_telegram, "editMessageText", json=too_long)[0] == 400


def test_an_album_has_2_to_10_items_with_the_uploads_it_attaches(fake_telegram):
    one = [{"type": "photo", "media": "attach://a"}]
    status, _ = call(fake_telegram, "sendMediaGroup", data={"chat_id": "5", "media": json.dumps(one)},
                     files={"a": ("a.png", b"A", "image/png")})
    assert status == 400

    media = [{"type": "photo", "media": f"attach://f{i}", "caption": "a fox" if i == 0 else ""} for i in range(3)]
    files = {f"f{i}": (f"{i}.png", bytes([i]) * 3, "image/png") for i in range(3)}
    status, body = call(fake_telegram, "sendMediaGroup", data={"chat_id": "5", "media": json.dumps(media)}, files=files)
    assert status == 200
    messages = body["result"]
    assert len(messages) == 3 and len({m["media_group_id"] for m in messages}) == 1
    assert [m["caption"] for m in messages] == ["a fox", "", ""]

    mixed = [{"type": "document", "media": "attach://f0"}, {"type": "photo", "media": "attach://f1"}]
    status, _ = call(fake_telegram, "sendMediaGroup", data={"chat_id": "5", "media": json.dumps(mixed)}, files=files)
    assert status == 400


def test_a_callback_or_inline_query_is_answered_once(fake_telegram):
    assert call(fake_telegram, "answerCallbackQuery", json={"callback_query_id": "cq1"})[0] == 200
    status, body = call(fake_telegram, "answerCallbackQuery", json={"callback_query_id": "cq1"})
    assert status == 400 and "query ID is invalid" in body["description"]
    assert call(fake_telegram, "answerCallbackQuery", json={"callback_query_id": "cq2", "text": "x" * 201})[0] == 400

    result = {"type": "photo", "id": "g1", "photo_file_id": "F"}
    twice = {"inline_query_id": "iq1", "results": [result, result]}
    assert call(fake_telegram, "answerInlineQuery", json=twice)[0] == 400
    assert call(fake_telegram, "answerInlineQuery", json={"inline_query_id": "iq2", "results": [result]})[0] == 200
    assert call(fake_telegram, "answerInlineQuery", json={"inline_query_id": "iq2", "results": []})[0] == 400


def test_a_prepared_message_gets_an_id(fake_telegram):
    result = {"type": "photo", "id": "g1", "photo_file_id": "F", "caption": "a fox"}
    status, body = call(fake_telegram, "savePreparedInlineMessage", json={"user_id": 7, "result": result})
    assert status == 200 and body["result"]["id"] and body["result"]["expiration_date"]
    assert call(fake_telegram, "savePreparedInlineMessage", json={"user_id": 7, "result": {}})[0] == 400


def test_files_users_sent_are_served_by_get_file_and_the_download_route(fake_telegram):
    file_id = fake_telegram.client.add_file(b"\xff\xd8photo-bytes")

    status, body = call(fake_telegram, "getFile", json={"file_id": file_id})
    assert status == 200 and body["result"]["file_size"] == 13
    download = requests.get(f"{fake_telegram.base_url}/file/bot{settings.TELEGRAM_BOT_TOKEN}/"
                            f"{body['result']['file_path']}", timeout=5)
    assert (download.status_code, download.content) == (200, b"\xff\xd8photo-bytes")

    assert call(fake_telegram, "getFile", json={"file_id": "nope"})[0] == 400
    assert requests.get(f"{fake_telegram.base_url}/file/bot{settings.TELEGRAM_BOT_TOKEN}/photos/none.jpg",
                        timeout=5).status_code == 404
    assert requests.get(f"{fake_telegram.base_url}/file/botWRONG/{body['result']['file_path']}",
                        timeout=5).status_code == 404


def test_rate_limit_answers_429_with_retry_after(fake_telegram):
    fake_telegram.rate_limit("editMessageText", retry_after=7)
    status, body = call(fake_telegram, "editMessageText", json={"chat_id": 5, "message_id": 1, "text": "x"})
    assert (status, body["parameters"]) == (429, {"retry_after": 7})
    assert body["description"] == "Too Many Requests: retry after 7"
