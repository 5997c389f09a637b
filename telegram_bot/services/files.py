"""The "File" button: a result's original, uncompressed, as a document.

The bot only answers the button and enqueues this; the worker uploads (a file may
be as large as the Bot API server takes, up to 2000 MB on a self-hosted one, which
must not hold up the bot's event loop). 429 and transient errors are retried by
schedule while nothing has been sent yet; after a partial send (several results)
it stops rather than send a file twice.
"""

import enum
import logging

from django.conf import settings
from django.core.cache import cache
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from accounts.services import user_set_reachable
from generations.models import Generation
from telegram_bot.hooks import task_enqueue
from telegram_bot.sending import bot_send, retry_after_seconds
from telegram_bot.services.results import result_documents
from telegram_bot.services.scheduling import backoff_seconds, task_schedule_once

logger = logging.getLogger(__name__)

FILES_TASK = "telegram_bot.tasks.result_files_send"
# A second tap on "File" within this many seconds sends nothing more.
FILE_TAP_SECONDS = 60


class FilesOutcome(enum.StrEnum):
    SENT = "sent"
    GONE = "gone"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED = "failed"


def result_files_request(*, tap_key: str, generation_id: int, chat_id: int, position: int | None) -> bool:
    """Hand the "File" button to the worker; False for a repeat of the same tap
    (`tap_key`: the button's message and data) within FILE_TAP_SECONDS."""
    if not cache.add(f"telegram_bot:file-tap:{tap_key}", 1, timeout=FILE_TAP_SECONDS):
        return False
    return task_enqueue(FILES_TASK, generation_id=generation_id, chat_id=chat_id, position=position)


def result_files_send(*, generation_id: int, chat_id: int, position: int | None, attempt: int = 1) -> FilesOutcome:
    generation = (
        Generation.objects.select_related("user").filter(pk=generation_id, status=Generation.Status.COMPLETED).first()
    )
    if generation is None:
        return FilesOutcome.GONE
    messages = result_documents(generation, chat_id=chat_id, position=position)
    sent = 0
    try:
        for message in messages:
            bot_send(message)
            sent += 1
    except Forbidden:
        user_set_reachable(user_id=generation.user_id, reachable=False)
        return FilesOutcome.FAILED
    except (RetryAfter, NetworkError, OSError) as exc:
        # OSError: the media storage did not answer; tried again like a network error.
        if isinstance(exc, BadRequest) or sent or attempt >= settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS:
            logger.error("generation %s: files not sent (try %s): %s", generation_id, attempt, exc)
            return FilesOutcome.FAILED
        delay = retry_after_seconds(exc) if isinstance(exc, RetryAfter) else backoff_seconds(
            attempt=attempt, base=settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS,
            maximum=settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS)
        task_schedule_once(
            func=FILES_TASK,
            kwargs={"generation_id": generation_id, "chat_id": chat_id, "position": position, "attempt": attempt + 1},
            delay_seconds=delay, name=f"files {generation_id} try {attempt + 1}",
        )
        return FilesOutcome.RETRY_SCHEDULED
    except TelegramError as exc:
        logger.error("generation %s: files not sent: %s", generation_id, exc.message)
        return FilesOutcome.FAILED
    return FilesOutcome.SENT
