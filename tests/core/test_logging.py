"""Structured logs: JSON lines with request context and no secrets."""

import json
import logging

import pytest

from core.logging import JsonFormatter, log_context, redact

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Capture what the JSON formatter would print, for every logger."""
    records: list[str] = []
    formatter = JsonFormatter()

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(formatter.format(record))

    handler = Capture(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)


def test_api_request_logs_one_json_line_with_request_and_user(owner, owner_client, json_lines):
    response = owner_client.get("/api/me", HTTP_X_REQUEST_ID="req-12345678")
    assert response["X-Request-ID"] == "req-12345678"
    lines = [json.loads(line) for line in json_lines]
    request_lines = [line for line in lines if line["logger"] == "nanogen.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == "req-12345678"
    assert line["user_id"] == owner.pk
    assert line["status"] == 200 and line["path"] == "/api/me" and line["duration_ms"] >= 0


def test_a_bad_request_id_is_replaced(anonymous_client):
    response = anonymous_client.get("/api/health", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert len(response["X-Request-ID"]) == 32


def test_no_secret_reaches_a_log_line(owner_client, json_lines, settings):
    token = "123456789:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
    logging.getLogger("anything").warning(
        "calling https://api.telegram.org/bot%s/sendMessage with Authorization: tma user=%%7B...&hash=%s",
        token,
        "a" * 64,
    )
    owner_client.get("/api/me")
    text = "\n".join(json_lines)
    assert token not in text
    assert "a" * 64 not in text
    assert settings.TELEGRAM_BOT_TOKEN not in text
    assert "tma user=" not in text


def test_log_context_is_scoped():
    with log_context(generation_id=5):
        record = logging.makeLogRecord({"msg": "inside", "name": "t", "levelname": "INFO"})
        assert json.loads(JsonFormatter().format(record))["generation_id"] == 5
    record = logging.makeLogRecord({"msg": "outside", "name": "t", "levelname": "INFO"})
    assert "generation_id" not in json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Bearer sk-live-abcdef", "sk-live-abcdef"),
        ("url #tgWebAppData=auth_date%3D1%26hash", "auth_date%3D1"),
        ("bot 42:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/getMe", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ],
)
def test_redact(text, hidden):
    assert hidden not in redact(text)


def test_a_secret_changed_in_the_settings_is_redacted_from_then_on(settings):
    assert "<secret>" not in redact("key sk-first-0123 and sk-second-4567")
    settings.AIMLAPI_KEY = "sk-first-0123"
    assert redact("key sk-first-0123 and sk-second-4567") == "key <secret> and sk-second-4567"
    settings.AIMLAPI_KEY = "sk-second-4567"
    assert redact("key sk-first-0123 and sk-second-4567") == "key sk-first-0123 and <secret>"


@pytest.mark.parametrize(
    "text", ["POST /api/generations 201", "generation 5 started: user 7", "bearers of news", "a=b"]
)
def test_text_without_a_secret_is_left_as_it_is(text):
    assert redact(text) == text
