"""Telling a user that their generation finished: the photo or video with the
prompt as caption, or that it failed and the credits came back.

At most one message per generation, however often the task is delivered: the
send happens only after a conditional UPDATE pending -> sending that one
delivery wins (`GenerationNotification`). Telegram is called outside any
transaction (an upload may take a minute). Its errors are classified:

- 403 Forbidden (the user blocked the bot, deleted their account, never started
  it): the user is marked unreachable, nothing is retried, and later
  notifications are skipped until they write to the bot again;
- 429 with retry_after, and transient errors (network, timeouts, 5xx): the task
  is scheduled again (a Django-Q2 ONCE schedule; a worker never sleeps), after
  retry_after or an exponential backoff, at most TELEGRAM_NOTIFY_MAX_ATTEMPTS
  tries in all;
- anything else (400 Bad Request...): failed for good, logged.

A worker killed in the middle of a send leaves the notification `sending`: it
is not sent again, because Telegram may already have delivered it (the user
still finds the result in the Mini App). Cancelled generations get no message:
the user cancelled them in the app and saw the credits come back there.
"""

import enum
import logging
import posixpath
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from telegram.error import TelegramError

from accounts.services import user_set_reachable
from core.i18n import user_language
from core.scheduling import task_retry_schedule
from core.task_names import GENERATION_NOTIFY
from generations.models import Generation
from telegram_bot import keyboards, texts
from telegram_bot.models import GenerationNotification
from telegram_bot.sending import (
    PHOTO_MAX_BYTES,
    UPLOAD_MAX_BYTES,
    FileKind,
    Outgoing,
    TelegramFailure,
    bot_send,
    telegram_error_classify,
)

logger = logging.getLogger(__name__)

# Clocks of the machines that schedule and run a retry may disagree a little.
CLOCK_SKEW = timedelta(seconds=5)

Status = GenerationNotification.Status


class NotifyOutcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    # Another delivery of the task has it, or it is finished, or a retry is not due yet.
    NOT_MINE = "not_mine"
    UNREACHABLE = "unreachable"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED = "failed"


def generation_notification_send(*, generation_id: int) -> NotifyOutcome:
    """Send the notification of a finished generation, once (see the module docstring)."""
    generation = (
        Generation.objects.select_related("user").filter(pk=generation_id, status__in=Generation.FINAL_STATUSES)
        .first()
    )
    if generation is None:
        logger.warning("generation %s: no finished generation to notify about", generation_id)
        return NotifyOutcome.NOT_MINE
    if not _claim(generation_id):
        return NotifyOutcome.NOT_MINE

    user = generation.user
    chat_id = user.telegram_id
    skip_reason = _skip_reason(generation)
    if skip_reason or chat_id is None:
        skip_reason = skip_reason or "no Telegram account"
        _finish(generation_id, status=Status.SKIPPED, detail=skip_reason)
        logger.info("generation %s: no notification (%s)", generation_id, skip_reason)
        return NotifyOutcome.SKIPPED

    try:
        message = _message_for(generation, chat_id=chat_id)
        # Outside any transaction: an upload may take as long as TELEGRAM_UPLOAD_TIMEOUT.
        sent = bot_send(message)
    except TelegramError as exc:
        error = telegram_error_classify(exc)
        if error.failure == TelegramFailure.UNREACHABLE:
            user_set_reachable(user_id=user.pk, reachable=False)
            _finish(generation_id, status=Status.FAILED, detail=f"unreachable: {error.message}")
            logger.info("generation %s: user %s cannot be reached (%s)", generation_id, user.pk, error.message)
            return NotifyOutcome.UNREACHABLE
        if error.failure == TelegramFailure.TRANSIENT:
            return _retry_or_fail(generation_id, retry_after=error.retry_after, detail=error.detail)
        _finish(generation_id, status=Status.FAILED, detail=error.detail)
        logger.error("generation %s: notification refused by Telegram: %s", generation_id, error.message)
        return NotifyOutcome.FAILED
    except OSError as exc:
        # The media storage (an object store on another machine) did not answer: like a
        # network error, try again later. A result that is gone is not this (see _result_bytes).
        return _retry_or_fail(generation_id, retry_after=None, detail=f"media storage: {exc}")
    except Exception as exc:
        # Not Telegram's answer (python-telegram-bot wraps transport errors): our own bug.
        _finish(generation_id, status=Status.FAILED, detail=f"{type(exc).__name__}")
        raise

    _finish(generation_id, status=Status.SENT, method=sent.method, telegram_message_id=sent.message_id)
    logger.info("generation %s: user %s notified (%s)", generation_id, user.pk, sent.method)
    return NotifyOutcome.SENT


def _claim(generation_id: int) -> bool:
    """pending -> sending (a due retry too) for exactly one delivery of the task."""
    GenerationNotification.objects.bulk_create(
        [GenerationNotification(generation_id=generation_id)], ignore_conflicts=True
    )
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now() + CLOCK_SKEW)
    return bool(
        GenerationNotification.objects.filter(due, pk=generation_id, status=Status.PENDING).update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, updated_at=timezone.now()
        )
    )


def _finish(generation_id: int, *, status: GenerationNotification.Status, detail: str = "", method: str = "",
            telegram_message_id: int | None = None) -> None:
    GenerationNotification.objects.filter(pk=generation_id, status=Status.SENDING).update(
        status=status,
        detail=detail[:255],
        method=method,
        telegram_message_id=telegram_message_id,
        sent_at=timezone.now() if status == Status.SENT else None,
        updated_at=timezone.now(),
    )


def _skip_reason(generation: Generation) -> str:
    user = generation.user
    if generation.status == Generation.Status.CANCELLED:
        return "cancelled by the user"
    if user.telegram_id is None:
        return "no Telegram account"
    if not user.is_reachable:
        return "the user blocked the bot"
    return ""


def _retry_or_fail(generation_id: int, *, retry_after: float | None, detail: str) -> NotifyOutcome:
    attempts = GenerationNotification.objects.values_list("attempts", flat=True).get(pk=generation_id)
    if attempts >= settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS:
        _finish(generation_id, status=Status.FAILED, detail=f"gave up after {attempts} attempts: {detail}")
        logger.error("generation %s: notification given up after %s attempts: %s", generation_id, attempts, detail)
        return NotifyOutcome.FAILED
    # Back to pending and the schedule that retries it, together: a crash between
    # the two can neither lose the retry nor leave a schedule for a finished row.
    with transaction.atomic():
        due = task_retry_schedule(
            func=GENERATION_NOTIFY,
            kwargs={"generation_id": generation_id},
            attempt=attempts,
            base=settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS,
            maximum=settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS,
            retry_after=retry_after,
            name=f"notify {generation_id} try {attempts + 1}",
        )
        handed_back = GenerationNotification.objects.filter(pk=generation_id, status=Status.SENDING).update(
            status=Status.PENDING, next_attempt_at=due, detail=detail[:255], updated_at=timezone.now()
        )
        if not handed_back:
            transaction.set_rollback(True)
            return NotifyOutcome.NOT_MINE
    logger.warning("generation %s: notification retried at %s (%s)", generation_id,
                   due.isoformat(timespec="seconds"), detail)
    return NotifyOutcome.RETRY_SCHEDULED


def _message_for(generation: Generation, *, chat_id: int) -> Outgoing:
    user = generation.user
    with translation.override(user_language(user.language_code)):
        keyboard = keyboards.open_app_keyboard()
        if generation.status == Generation.Status.FAILED:
            text = texts.generation_failed(
                prompt=generation.prompt,
                reason=generation.error_message,
                credits_returned=generation.credits_charged if generation.refunded else 0,
            )
            return Outgoing(chat_id=chat_id, kind="text", text=text, reply_markup=keyboard)
        data = _result_bytes(generation)
        kind = _kind_for(generation.result_content_type, len(data) if data is not None else 0)
        if data is None or kind is None:
            text = texts.generation_ready_in_app(prompt=generation.prompt)
            return Outgoing(chat_id=chat_id, kind="text", text=text, reply_markup=keyboard)
    return Outgoing(
        chat_id=chat_id,
        kind=kind,
        text=generation.prompt,
        file=data,
        filename=posixpath.basename(generation.result_file.name),
        reply_markup=keyboard,
    )


def _kind_for(content_type: str, size: int) -> FileKind | None:
    """How Telegram should show a result of this type and size; None: too large to upload."""
    if size > UPLOAD_MAX_BYTES:
        return None
    if content_type == "image/gif":
        return "animation"  # the demo provider's "video" is an animated GIF
    if content_type.startswith("image/"):
        return "photo" if size <= PHOTO_MAX_BYTES else "document"
    if content_type.startswith("video/"):
        return "video"
    return "document"


def _result_bytes(generation: Generation) -> bytes | None:
    """The stored result, or None when it is missing or too large to upload.

    Read through the media storage, never a path: the worker that sends this may run on
    another machine than the one that stored the result. Other storage errors (OSError)
    are raised: the storage is down, and the send is tried again later.
    """
    name = generation.result_file.name
    if not name:
        return None
    try:
        if default_storage.size(name) > UPLOAD_MAX_BYTES:
            return None
        with default_storage.open(name, "rb") as result:
            data: bytes = result.read()
            return data
    except FileNotFoundError:
        logger.error("generation %s: result file %s is missing from the media storage", generation.pk, name)
        return None
