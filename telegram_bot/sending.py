"""Messages the worker sends (Django-Q2 tasks are synchronous).

Each send runs in its own `asyncio.run` with its own `Bot` and HTTP client, made
and closed inside that event loop: python-telegram-bot's objects hold an httpx
client bound to the loop that created it, so sharing one across loops (or
across tasks of a worker) breaks. The Bot is never `initialize`d: that would
cost a getMe per message, and its error text would carry the token.

Errors are python-telegram-bot's; `telegram_error_classify` says what each means for
the caller (it also reads core.telegram_api's errors, so every sender of the bot
decides the same way).
"""

import asyncio
import enum
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from core.telegram_api import TelegramApiError

# Telegram's limits for what a bot uploads, and for a caption.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
CAPTION_MAX_LENGTH = 1024
MESSAGE_MAX_LENGTH = 4096


def bot_api_base_urls() -> tuple[str, str]:
    """python-telegram-bot's `base_url` and `base_file_url` for TELEGRAM_API_BASE_URL."""
    base = settings.TELEGRAM_API_BASE_URL
    return f"{base}/bot", f"{base}/file/bot"


def telegram_length_cut(text: str, limit: int) -> str:
    """`text` cut to `limit` as Telegram counts (UTF-16 code units), with an ellipsis when cut."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    units = text.encode("utf-16-le")[: (limit - 1) * 2]
    return units.decode("utf-16-le", errors="ignore") + "…"


def retry_after_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds (python-telegram-bot 22 is moving it from int to timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# How a file is shown in the chat; a message is one of these or plain text.
FileKind = Literal["photo", "video", "animation", "document"]
MessageKind = Literal["text", FileKind]


class TelegramFailure(enum.StrEnum):
    # 403: the user blocked the bot, deleted their account or never started it.
    UNREACHABLE = "unreachable"
    # 429 (after `retry_after`), network errors, timeouts, 5xx: the same call may work later.
    TRANSIENT = "transient"
    # Anything else (400 Bad Request...): trying again changes nothing.
    PERMANENT = "permanent"


@dataclass(frozen=True)
class TelegramErrorClass:
    failure: TelegramFailure
    message: str  # Telegram's description
    detail: str  # what went wrong, in one line for the logs and a notification's row
    retry_after: float | None = None  # seconds Telegram asked us to wait (429)


def telegram_error_classify(error: TelegramError | TelegramApiError) -> TelegramErrorClass:
    """What a failed Bot API call means for the sender: give up on the user, try
    again later, or give up on the message."""
    if isinstance(error, TelegramApiError):
        message, detail = error.description, str(error)
        if error.error_code == 403:
            return TelegramErrorClass(TelegramFailure.UNREACHABLE, message, detail)
        if error.is_transient:
            return TelegramErrorClass(TelegramFailure.TRANSIENT, message, detail, retry_after=error.retry_after)
        return TelegramErrorClass(TelegramFailure.PERMANENT, message, detail)
    detail = f"{type(error).__name__}: {error.message}"
    if isinstance(error, Forbidden):
        return TelegramErrorClass(TelegramFailure.UNREACHABLE, error.message, detail)
    if isinstance(error, RetryAfter):
        return TelegramErrorClass(TelegramFailure.TRANSIENT, error.message, f"429: {error.message}",
                                  retry_after=retry_after_seconds(error))
    if isinstance(error, BadRequest):  # a NetworkError subclass in python-telegram-bot, but permanent
        return TelegramErrorClass(TelegramFailure.PERMANENT, error.message, detail)
    if isinstance(error, NetworkError):  # TimedOut, connection errors, 5xx
        return TelegramErrorClass(TelegramFailure.TRANSIENT, error.message, detail)
    return TelegramErrorClass(TelegramFailure.PERMANENT, error.message, detail)


@dataclass(frozen=True)
class Outgoing:
    """One message to a user: a file (`file` and `filename`; `text` is the caption)
    or text."""

    chat_id: int
    kind: MessageKind
    text: str
    file: bytes | None = None
    filename: str = ""
    reply_markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Sent:
    method: str
    message_id: int


_METHODS: dict[FileKind, tuple[str, str, str]] = {
    "photo": ("sendPhoto", "send_photo", "photo"),
    "video": ("sendVideo", "send_video", "video"),
    "animation": ("sendAnimation", "send_animation", "animation"),
    "document": ("sendDocument", "send_document", "document"),
}


def bot_send(message: Outgoing) -> Sent:
    """Send `message` now; raises telegram.error.TelegramError subclasses.

    A photo Telegram refuses (dimensions, format) is sent again as a document,
    which Telegram takes as it is.
    """
    return asyncio.run(_send(message))


def _request() -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=1,
        connect_timeout=5.0,
        pool_timeout=5.0,
        read_timeout=settings.TELEGRAM_API_TIMEOUT,
        write_timeout=settings.TELEGRAM_API_TIMEOUT,
        media_write_timeout=settings.TELEGRAM_UPLOAD_TIMEOUT,
    )


async def _send(message: Outgoing) -> Sent:
    request = _request()
    base_url, base_file_url = bot_api_base_urls()
    bot = Bot(
        settings.TELEGRAM_BOT_TOKEN, base_url=base_url, base_file_url=base_file_url,
        request=request, get_updates_request=request,
    )
    async with request:  # opens and always closes the HTTP client, in this loop
        if message.kind == "text" or message.file is None:
            sent = await bot.send_message(
                chat_id=message.chat_id,
                text=telegram_length_cut(message.text, MESSAGE_MAX_LENGTH),
                reply_markup=message.reply_markup,
            )
            return Sent("sendMessage", sent.message_id)
        try:
            return await _send_file(bot, message, message.kind)
        except BadRequest:
            if message.kind != "photo":
                raise
            return await _send_file(bot, message, "document")


async def _send_file(bot: Bot, message: Outgoing, kind: FileKind) -> Sent:
    method, function, field = _METHODS[kind]
    arguments: dict[str, Any] = {
        "chat_id": message.chat_id,
        field: message.file,
        "filename": message.filename or None,
        "caption": telegram_length_cut(message.text, CAPTION_MAX_LENGTH) or None,
        "reply_markup": message.reply_markup,
        # Telegram answers an upload only after it has processed the file.
        "read_timeout": settings.TELEGRAM_UPLOAD_TIMEOUT,
    }
    sent: Message = await getattr(bot, function)(**arguments)
    return Sent(method, sent.message_id)
