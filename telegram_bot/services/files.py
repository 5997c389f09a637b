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
from telegram.error import TelegramError

from accounts.services import user_set_reachable
from core.scheduling import task_retry_schedule
from core.task_names import RESULT_FILES_SEND
from generations.models import Generation
from telegram_bot.hooks import task_enqueue
from telegram_bot.sending import TelegramFailure, bot_send, telegram_error_classify
from telegram_bot.services.results import result_documents

logger = logging.getLogger(__name__)

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
    return task_enqueue(RESULT_FILES_SEND, generation_id=generation_id, chat_id=chat_id, position=position)


def result_files_send(*, generation_id: int, chat_id: int, position: int | None, attempt: int = 1) -> FilesOutcome:
    generation = (
        Generation.objects.select_related("user").filter(pk=generation_id, status=Generation.Status.COMPLETED).first()
    )
    if generation is None:
        return FilesOutcome.GONE
    sent = 0
    retry_after: float | None = None
    try:
        for message in result_documents(generation, chat_id=chat_id, position=position):
            bot_send(message)
            sent += 1
    except TelegramError as exc:
        error = telegram_error_classify(exc)
        if error.failure == TelegramFailure.UNREACHABLE:
            user_set_reachable(user_id=generation.user_id, reachable=False)
            return FilesOutcome.FAILED
        if error.failure == TelegramFailure.PERMANENT:
            logger.error("generation %s: files not sent: %s", generation_id, error.detail)
            return FilesOutcome.FAILED
        detail, retry_after = error.detail, error.retry_after
    except OSError as exc:  # the media storage did not answer: like a network error
        detail = f"media storage: {exc}"
    else:
        return FilesOutcome.SENT
    if sent or attempt >= settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS:
        logger.error("generation %s: files not sent (try %s): %s", generation_id, attempt, detail)
        return FilesOutcome.FAILED
    task_retry_schedule(
        func=RESULT_FILES_SEND,
        kwargs={"generation_id": generation_id, "chat_id": chat_id, "position": position, "attempt": attempt + 1},
        attempt=attempt, base=settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS,
        maximum=settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS, retry_after=retry_after,
        name=f"files {generation_id} try {attempt + 1}",
    )
    return FilesOutcome.RETRY_SCHEDULED
