"""Messages the worker sends and edits (Django-Q2 tasks are synchronous).

python-telegram-bot's objects hold an httpx client bound to the event loop that
created it, so a Bot is only ever used in its own loop. A process's main thread
(a Django-Q2 worker runs its tasks there, one at a time) keeps one loop and one Bot
for as long as the Bot API settings stay the same: its connection to Telegram stays
open between messages (no TCP and TLS handshake per message) and nothing is built
per call. Any other thread (the bot process's ORM threads, a test's threads) makes a
Bot and a client per call in an `asyncio.run` of its own and closes them after it.
Every client shares one TLS context per process: loading the CA bundle costs about
50 ms, more than the whole send to a Bot API on the same network. The Bot is never
`initialize`d: that would cost a getMe per message, and its error text would carry
the token. A single photo (most notifications) goes as one plain multipart POST through
`core.telegram_api` instead, a third of the CPU (`_send_photo_plain`).

Errors are python-telegram-bot's; `telegram_error_classify` says what each means for
the caller (it also reads core.telegram_api's errors, so every sender of the bot
decides the same way).
"""

import asyncio
import enum
import functools
import mimetypes
import os
import ssl
import threading
import warnings
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any, Literal, TypeVar

from django.conf import settings
from django.core.files.storage import default_storage
from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from core.telegram_api import TelegramApiError, bot_api_call

T = TypeVar("T")

# Telegram's limits for what a bot sends: photos, other uploads (the cloud Bot API's;
# a self-hosted server in --local mode takes files up to 2000 MB), a caption, a text.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
CLOUD_UPLOAD_MAX_BYTES = 50 * 1024 * 1024
LOCAL_UPLOAD_MAX_BYTES = 2000 * 1024 * 1024
CAPTION_MAX_LENGTH = 1024
MESSAGE_MAX_LENGTH = 4096
ALBUM_MAX_ITEMS = 10


def upload_max_bytes() -> int:
    """The largest file the configured Bot API server takes from the bot."""
    return LOCAL_UPLOAD_MAX_BYTES if settings.TELEGRAM_API_LOCAL else CLOUD_UPLOAD_MAX_BYTES


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


# How a file is shown in the chat.
FileKind = Literal["photo", "video", "animation", "document"]


@dataclass(frozen=True)
class Attachment:
    """A stored file to upload, and how Telegram should show it."""

    kind: FileKind
    storage_name: str
    filename: str


@dataclass(frozen=True)
class Outgoing:
    """One message to a user: text, or one file (`attachments` of one) or an album of
    several, with `text` as the caption (of the album's first item)."""

    chat_id: int
    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SentFile:
    """A file Telegram now holds: its `file_id` shows it again without an upload."""

    kind: FileKind
    file_id: str
    message_id: int


@dataclass(frozen=True)
class Sent:
    method: str
    message_id: int
    files: tuple[SentFile, ...] = ()


def bot_send(message: Outgoing) -> Sent:
    """Send `message` now; raises telegram.error.TelegramError subclasses.

    A photo Telegram refuses (dimensions, format) is sent again as a document, and
    an album it refuses as an album of documents: Telegram takes those as they are.
    """
    return bot_run(lambda bot: _send(bot, message))


def bot_edit_text(*, chat_id: int, message_id: int, text: str,
                  reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text of a message the bot sent; raises like `bot_send`."""

    async def edit(bot: Bot) -> None:
        await bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=telegram_length_cut(text, MESSAGE_MAX_LENGTH),
            reply_markup=reply_markup,
        )

    bot_run(edit)


def bot_run(call: Callable[[Bot], Awaitable[T]]) -> T:
    """`call(bot)` with a Bot made for its event loop (see the module docstring)."""
    if threading.current_thread() is threading.main_thread():
        return _main_thread_bot().run(call)
    return asyncio.run(_with_bot(call))


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One per process (and thread-safe): what httpx would build for every client."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _request() -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=1,
        connect_timeout=5.0,
        pool_timeout=5.0,
        read_timeout=settings.TELEGRAM_API_TIMEOUT,
        write_timeout=settings.TELEGRAM_API_TIMEOUT,
        media_write_timeout=settings.TELEGRAM_UPLOAD_TIMEOUT,
        httpx_kwargs={"verify": _tls_context()},
    )


def _bot(request: HTTPXRequest) -> Bot:
    base_url, base_file_url = bot_api_base_urls()
    return Bot(
        settings.TELEGRAM_BOT_TOKEN, base_url=base_url, base_file_url=base_file_url,
        request=request, get_updates_request=request, local_mode=settings.TELEGRAM_API_LOCAL,
    )


async def _with_bot(call: Callable[[Bot], Awaitable[T]]) -> T:
    request = _request()
    async with request:  # opens and always closes the HTTP client, in this loop
        return await call(_bot(request))


class _LoopBot:
    """An event loop of its own with one Bot and its open HTTP client, for one thread."""

    def __init__(self, key: tuple[object, ...]) -> None:
        self.key = key
        self.loop = asyncio.new_event_loop()
        self.request = _request()
        self.loop.run_until_complete(self.request.initialize())
        self.bot = _bot(self.request)

    def run(self, call: Callable[[Bot], Awaitable[T]]) -> T:
        return self.loop.run_until_complete(call(self.bot))

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.request.shutdown())
        finally:
            self.loop.close()


_main_bot: _LoopBot | None = None


def _main_thread_bot() -> _LoopBot:
    """The main thread's Bot, made again after a fork or when the Bot API settings changed."""
    global _main_bot
    key = (os.getpid(), settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE_URL, settings.TELEGRAM_API_LOCAL,
           settings.TELEGRAM_API_TIMEOUT, settings.TELEGRAM_UPLOAD_TIMEOUT)
    if _main_bot is not None and _main_bot.key != key:
        stale, _main_bot = _main_bot, None
        if stale.key[0] == key[0]:  # a forked child leaves its parent's client alone
            stale.close()
    if _main_bot is None:
        _main_bot = _LoopBot(key)
    return _main_bot


async def _send(bot: Bot, message: Outgoing) -> Sent:
    caption = telegram_length_cut(message.text, CAPTION_MAX_LENGTH) or None
    if not message.attachments:
        sent = await bot.send_message(
            chat_id=message.chat_id,
            text=telegram_length_cut(message.text, MESSAGE_MAX_LENGTH),
            reply_markup=message.reply_markup,
        )
        return Sent("sendMessage", sent.message_id)
    if len(message.attachments) == 1:
        (attachment,) = message.attachments
        try:
            if attachment.kind == "photo":
                plain = _send_photo_plain(message, attachment, caption)
                if plain is not None:
                    return plain
            return await _send_file(bot, message, attachment, attachment.kind, caption)
        except BadRequest:
            if attachment.kind != "photo":
                raise
            return await _send_file(bot, message, attachment, "document", caption)
    try:
        return await _send_album(bot, message.chat_id, message.attachments, caption, as_documents=False)
    except BadRequest:
        return await _send_album(bot, message.chat_id, message.attachments, caption, as_documents=True)


_METHODS: dict[FileKind, tuple[str, str, str]] = {
    "photo": ("sendPhoto", "send_photo", "photo"),
    "video": ("sendVideo", "send_video", "video"),
    "animation": ("sendAnimation", "send_animation", "animation"),
    "document": ("sendDocument", "send_document", "document"),
}


def _upload(stack: ExitStack, attachment: Attachment, *, attach: bool = False) -> InputFile:
    """The stored file as an upload streamed from its handle (never read whole into memory:
    a self-hosted Bot API server takes files of up to 2000 MB)."""
    handle: IO[bytes] = stack.enter_context(default_storage.open(attachment.storage_name, "rb"))
    return InputFile(handle, filename=attachment.filename, attach=attach, read_file_handle=False)


async def _send_file(bot: Bot, message: Outgoing, attachment: Attachment, kind: FileKind,
                     caption: str | None) -> Sent:
    method, function, field = _METHODS[kind]
    with ExitStack() as stack:
        arguments: dict[str, Any] = {
            "chat_id": message.chat_id,
            field: _upload(stack, attachment),
            "caption": caption,
            "reply_markup": message.reply_markup,
            # Telegram answers an upload only after it has processed the file.
            "read_timeout": settings.TELEGRAM_UPLOAD_TIMEOUT,
        }
        sent: Message = await getattr(bot, function)(**arguments)
    return Sent(method, sent.message_id, files=tuple(_files_of(sent)))


def _send_photo_plain(message: Outgoing, attachment: Attachment, caption: str | None) -> Sent | None:
    """sendPhoto as one plain multipart POST (`core.telegram_api.bot_api_call`), None for a
    file too large to be a photo (the caller streams it). A notification's photo is most of
    the worker's sends, and python-telegram-bot's async stack cost about three times the
    CPU of this per upload (3-4 ms against 1-1.3 ms, measured). A photo is at most
    PHOTO_MAX_BYTES, so it is read whole; Telegram's refusals are raised as
    python-telegram-bot raises them (`_telegram_error`), so callers and
    `telegram_error_classify` see no difference."""
    with default_storage.open(attachment.storage_name, "rb") as handle:
        data = handle.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        return None
    payload: dict[str, Any] = {"chat_id": message.chat_id}
    if caption is not None:
        payload["caption"] = caption
    if message.reply_markup is not None:
        payload["reply_markup"] = message.reply_markup.to_dict()
    content_type = mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream"
    try:
        result = bot_api_call("sendPhoto", payload, files={"photo": (attachment.filename, data, content_type)},
                              timeout=settings.TELEGRAM_UPLOAD_TIMEOUT)
    except TelegramApiError as error:
        raise _telegram_error(error) from None
    photo = result.get("photo") if isinstance(result, dict) else None
    if not (isinstance(photo, list) and photo and isinstance(photo[-1], dict)):
        raise TelegramError("sendPhoto answered without a photo")
    message_id = int(result["message_id"])
    return Sent("sendPhoto", message_id, files=(SentFile("photo", str(photo[-1]["file_id"]), message_id),))


def _telegram_error(error: TelegramApiError) -> TelegramError:
    """The python-telegram-bot error for a failed plain Bot API call, as its own request
    would have raised it."""
    if error.error_code is None or (error.is_transient and error.error_code != 429):
        return NetworkError(error.description)  # the network, a timeout, a 5xx
    if error.error_code == 429:
        return RetryAfter(timedelta(seconds=error.retry_after or 1))
    if error.error_code == 403:
        return Forbidden(error.description)
    if error.error_code == 400:
        return BadRequest(error.description)
    return TelegramError(error.description)


async def _send_album(bot: Bot, chat_id: int, attachments: Sequence[Attachment], caption: str | None, *,
                      as_documents: bool) -> Sent:
    """sendMediaGroup: photos and videos together, or documents. Telegram's albums hold
    no animations: those (and anything when `as_documents`) go as documents."""
    with ExitStack() as stack:
        media: list[InputMediaPhoto | InputMediaVideo | InputMediaDocument] = []
        documents = as_documents or any(a.kind not in ("photo", "video") for a in attachments)
        for index, attachment in enumerate(attachments):
            upload = _upload(stack, attachment, attach=True)
            item_caption = caption if index == 0 else None
            if documents:
                media.append(InputMediaDocument(upload, caption=item_caption))
            elif attachment.kind == "photo":
                media.append(InputMediaPhoto(upload, caption=item_caption))
            else:
                media.append(InputMediaVideo(upload, caption=item_caption))
        messages = await bot.send_media_group(chat_id=chat_id, media=media,
                                              read_timeout=settings.TELEGRAM_UPLOAD_TIMEOUT)
    files = [file for sent in messages for file in _files_of(sent)]
    return Sent("sendMediaGroup", messages[0].message_id, files=tuple(files))


def _files_of(message: Message) -> list[SentFile]:
    """The file Telegram made of an upload (the largest size of a photo)."""
    if message.photo:
        return [SentFile("photo", message.photo[-1].file_id, message.message_id)]
    if message.animation:
        return [SentFile("animation", message.animation.file_id, message.message_id)]
    if message.video:
        return [SentFile("video", message.video.file_id, message.message_id)]
    if message.document:
        return [SentFile("document", message.document.file_id, message.message_id)]
    return []
