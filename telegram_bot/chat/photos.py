"""Photos sent to the bot in the private chat: a photo (its largest size), or an
image sent as a file (a document whose type is an image: a picture sent without
Telegram's compression), alone or in an album.

The handler only records the photo (`services.album_photo_add`): the worker
downloads it, applies the upload limits and starts the edit (`services.albums`), so
the handler stays short and blocking and works the same whichever process runs it.
For an album the bot keeps a timer next to its handlers (not in one: a handler that
waited would hold up the album's other photos) that hands the album to the worker
once no photo of it came for BOT_ALBUM_WAIT_SECONDS; the worker's minute sweep does
it when there is no such timer (the update processed by the worker, the bot stopped).
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from telegram_bot import selectors, services
from telegram_bot.chat import texts as chat_texts
from telegram_bot.handler_helpers import PRIVATE, BotApplication, Context, in_language, present, telegram_user_from
from telegram_bot.orm import db

logger = logging.getLogger(__name__)

# The timer fires a little after the due time, so that the worker's clock agrees it has passed.
TIMER_MARGIN_SECONDS = 0.2
# bot_data key: the albums this process has a timer for (one timer per album, however many photos).
TIMERS = "album_timers"


@dataclass(frozen=True)
class Picture:
    file_id: str
    file_size: int | None


def picture_of(message: Message) -> Picture | None:
    """The file to edit: a photo's largest size, or an image sent as a file."""
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return Picture(largest.file_id, largest.file_size)
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return Picture(document.file_id, document.file_size)
    return None


async def photo_received(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    picture = present(picture_of(message), "picture")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    added = await db(services.album_photo_add)(
        user=user, chat_id=message.chat_id, message_id=message.message_id, media_group_id=message.media_group_id,
        file_id=picture.file_id, file_size=picture.file_size, caption=message.caption or "",
    )
    if added.outcome == services.PhotoAdded.LATE:
        with in_language(user.language_code):
            await message.reply_text(chat_texts.photo_late())
    elif added.outcome == services.PhotoAdded.ADDED and message.media_group_id:
        _album_timer_start(context, album_id=added.album_id)


def _album_timer_start(context: Context, *, album_id: int) -> None:
    if not context.application.running:
        return  # processed outside the bot's process (the worker): the sweep hands the album over
    timers: set[int] = context.bot_data.setdefault(TIMERS, set())
    if album_id in timers:
        return  # this process's timer looks at the album's due time again when it fires
    timers.add(album_id)
    context.application.create_task(_album_timer(timers, album_id=album_id), name=f"album-{album_id}")


async def _album_timer(timers: set[int], *, album_id: int) -> None:
    """Sleep until the album is due (each photo moves that on), then hand it to the
    worker. A failure only delays the album until the sweep."""
    try:
        while (due_at := await db(selectors.album_due_at)(album_id=album_id)) is not None:
            wait = _seconds_until(due_at)
            if wait <= 0:
                await db(services.album_finish_enqueue)(album_id=album_id)
                break
            await asyncio.sleep(wait + TIMER_MARGIN_SECONDS)
    except Exception:
        logger.exception("album %s: not handed to the worker (the sweep will)", album_id)
    finally:
        timers.discard(album_id)


def _seconds_until(moment: datetime) -> float:
    return (moment - timezone.now()).total_seconds()


def photo_handlers_register(application: BotApplication) -> None:
    """Photos, and images sent as files, in a private chat."""
    application.add_handler(MessageHandler(PRIVATE & (filters.PHOTO | filters.Document.IMAGE), photo_received))
