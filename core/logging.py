"""Structured logs: one JSON line per event, with the request, user and generation
it belongs to, and no secrets.

Context travels in contextvars, so any `logging.getLogger(__name__).info(...)` call
in a view, service or task carries `request_id`, `user_id` and `generation_id`
without passing them around. `log_context(...)` sets them for a block.
"""

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.core.signals import setting_changed

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("nanogen_log_context", default={})  # noqa: B039 - never mutated, only replaced

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged.
_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# Secrets that must never reach a log line, whatever logged them: bot tokens (also
# inside Bot API URLs), Mini App init data, bearer keys.
_REDACTIONS = [
    (re.compile(r"\d+:[A-Za-z0-9_-]{20,}"), "<bot-token>"),
    (re.compile(r"(?i)\btma\s+\S+"), "tma <init-data>"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer <key>"),
    (re.compile(r"(?i)(tgWebAppData=|initData=)[^\s&\"']+"), r"\1<init-data>"),
    (re.compile(r"\bhash=[0-9a-f]{64}\b"), "hash=<hash>"),
]


# Any of _REDACTIONS needs a ":" or a "=" or one of these words in the text: most log
# text (a request line, an event) has none, and is then not run through the five.
_MAYBE_REDACTED = re.compile(r"[:=]|(?i:tma|bearer)")

_SECRET_SETTINGS = ("TELEGRAM_BOT_TOKEN", "AIMLAPI_KEY", "SECRET_KEY", "TELEGRAM_WEBHOOK_SECRET", "METRICS_TOKEN")
_secrets: list[str] | None = None


def _configured_secrets() -> list[str]:
    """The configured secrets, read from the settings once (not for every log line), and
    again after one of them changed (tests)."""
    global _secrets
    if _secrets is None:
        from django.conf import settings

        if not settings.configured:
            return []
        _secrets = [value for name in _SECRET_SETTINGS if len(value := str(getattr(settings, name, "") or "")) >= 6]
    return _secrets


def _secrets_forget(*, setting: str, **kwargs: Any) -> None:
    global _secrets
    if setting in _SECRET_SETTINGS:
        _secrets = None


setting_changed.connect(_secrets_forget)


def redact(text: str) -> str:
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, "<secret>")
    if _MAYBE_REDACTED.search(text):
        for pattern, replacement in _REDACTIONS:
            text = pattern.sub(replacement, text)
    return text


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Add `values` (request_id, user_id, generation_id...) to every log line in the block."""
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


def log_context_update(**values: Any) -> None:
    """Add values for the rest of the current context (a request, a task)."""
    _context.set({**_context.get(), **values})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(_context.get())
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | type(None)) else redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines for a local run, redacted like the JSON ones."""

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{k}={v}" for k, v in _context.get().items())
        line = super().format(record)
        return redact(f"{line} [{context}]" if context else line)
