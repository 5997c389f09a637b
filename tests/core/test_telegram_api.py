"""The web/worker Bot API client against the local fake Bot API server."""

import logging
import socket

import pytest

from core.telegram_api import TelegramApiError, bot_api_call


def test_a_call_returns_the_result_and_sends_json(fake_telegram, settings):
    result = bot_api_call("sendMessage", {"chat_id": 42, "text": "hi", "reply_markup": {"inline_keyboard": []}})
    assert result["chat"]["id"] == 42 and result["text"] == "hi"
    call = fake_telegram.last("sendMessage")
    assert call.token == settings.TELEGRAM_BOT_TOKEN
    assert call.params == {"chat_id": 42, "text": "hi", "reply_markup": {"inline_keyboard": []}}


def test_a_bot_api_error_carries_code_description_and_retry_after(fake_telegram):
    fake_telegram.fail("sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("sendMessage", {"chat_id": 1, "text": "x"})
    error = info.value
    assert (error.error_code, error.retry_after, error.is_transient) == (429, 7, True)
    assert error.description == "Too Many Requests: retry after 7"
    # The failure was scripted once: the next call succeeds.
    assert bot_api_call("sendMessage", {"chat_id": 1, "text": "x"})["text"] == "x"


@pytest.mark.parametrize(("code", "transient"), [(400, False), (403, False), (404, False), (500, True), (502, True)])
def test_errors_are_classified_permanent_or_transient(fake_telegram, code, transient):
    fake_telegram.fail("refundStarPayment", error_code=code, description=f"error {code}")
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("refundStarPayment", {"user_id": 1, "telegram_payment_charge_id": "c"})
    assert info.value.error_code == code
    assert info.value.is_transient is transient


def test_description_match_is_case_insensitive(fake_telegram):
    fake_telegram.fail("refundStarPayment", description="Bad Request: CHARGE_ALREADY_REFUNDED")
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("refundStarPayment", {})
    assert info.value.has_description("charge_already_refunded")


def test_an_unknown_method_is_a_permanent_404(fake_telegram):
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("sendMesage", {})
    assert (info.value.error_code, info.value.is_transient) == (404, False)


def test_a_network_error_is_transient_and_never_shows_the_token(settings, caplog):
    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("getMe", timeout=2)
    error = info.value
    assert error.error_code is None and error.is_transient
    assert error.__cause__ is None and error.__suppress_context__
    assert settings.TELEGRAM_BOT_TOKEN not in str(error)
    assert settings.TELEGRAM_BOT_TOKEN not in caplog.text


def test_an_error_log_line_never_shows_the_token(fake_telegram, settings, caplog):
    fake_telegram.fail("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user")
    with caplog.at_level(logging.DEBUG), pytest.raises(TelegramApiError):
        bot_api_call("sendMessage", {"chat_id": 5, "text": "x"})
    assert "bot was blocked" in caplog.text
    assert settings.TELEGRAM_BOT_TOKEN not in caplog.text


def test_a_wrong_token_is_refused_like_telegram(fake_telegram, settings):
    settings.TELEGRAM_BOT_TOKEN = "999:WRONG"
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("getMe")
    assert info.value.error_code == 401


def test_an_answer_that_is_not_the_bot_api_is_an_error(fake_telegram, settings):
    settings.TELEGRAM_API_BASE_URL = fake_telegram.base_url + "/not-telegram"
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("getMe")
    assert info.value.error_code == 404


# --- whether Telegram may have acted on a failed call; uploads ------------------------------------


def test_a_refused_connection_was_never_processed(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("sendMessage", {"chat_id": 1, "text": "x"}, timeout=2)
    assert info.value.maybe_processed is False


def test_a_lost_answer_may_have_been_processed(settings):
    with socket.socket() as server:  # accepts the request, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(TelegramApiError) as info:
            bot_api_call("sendMessage", {"chat_id": 1, "text": "x"}, timeout=0.5)
    assert (info.value.error_code, info.value.description, info.value.maybe_processed) == (None, "ReadTimeout", True)


def test_a_bot_api_refusal_was_not_processed(fake_telegram):
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error")
    with pytest.raises(TelegramApiError) as info:
        bot_api_call("sendMessage", {"chat_id": 1, "text": "x"})
    assert (info.value.is_transient, info.value.maybe_processed) == (True, False)


def test_a_proxys_error_page_may_hide_a_processed_call(settings):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(504)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "24")
            self.end_headers()
            self.wfile.write(b"<h1>Gateway Timeout</h1>")

        def log_message(self, *args):
            pass

    with HTTPServer(("127.0.0.1", 0), Gateway) as server:
        threading.Thread(target=server.handle_request, daemon=True).start()
        settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(TelegramApiError) as info:
            bot_api_call("sendMessage", {"chat_id": 1, "text": "x"}, timeout=5)
    assert (info.value.error_code, info.value.maybe_processed) == (504, True)


def test_files_are_uploaded_as_multipart_with_the_other_fields(fake_telegram):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="JPEG")
    photo = buffer.getvalue()
    result = bot_api_call(
        "sendPhoto",
        {"chat_id": 42, "caption": "<b>hi</b>", "parse_mode": "HTML",
         "reply_markup": {"inline_keyboard": [[{"text": "Go", "url": "https://example.com"}]]}},
        files={"photo": ("cat.jpg", photo, "image/jpeg")},
    )
    assert result["photo"][0]["file_id"].startswith("photo-cat.jpg-")
    call = fake_telegram.last("sendPhoto")
    assert call["chat_id"] == "42" and call["caption"] == "<b>hi</b>"
    assert call["reply_markup"] == {"inline_keyboard": [[{"text": "Go", "url": "https://example.com"}]]}
    assert (call["photo"].filename, call["photo"].content) == ("cat.jpg", photo)
