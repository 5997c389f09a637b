"""The status message of a generation started in the chat, kept in step with it.

The worker enqueues `generation_progress` when it takes a generation up, and the
notification of a finished generation syncs the message too; both call
`status_message_sync`, which edits the message only when the generation's stage
differs from what the message shows (see `StatusMessage`), under a lease taken by a
conditional UPDATE: never two edits at once, never out of order, at most one edit
per change, and a change made during an edit is shown by the same holder after it.

Telegram's answers: 429 keeps the lease until its retry_after has passed and a
scheduled task edits then (nobody edits sooner, so the flood control is honoured);
network errors and 5xx are retried with backoff, at most TELEGRAM_NOTIFY_MAX_ATTEMPTS
tries per change; "message is not modified" means an earlier edit went through; any
other refusal (the user deleted the message, blocked the bot) gives the change up:
the message is cosmetic, the result is sent anyway.
"""

import enum
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from telegram.error import TelegramError

from accounts.services import user_set_reachable
from core.i18n import user_language
from core.scheduling import task_retry_schedule
from core.task_names import GENERATION_PROGRESS
from generations.models import Generation
from telegram_bot.chat import texts as chat_texts
from telegram_bot.models import StatusMessage
from telegram_bot.sending import TelegramFailure, bot_edit_text, telegram_error_classify

logger = logging.getLogger(__name__)

Stage = StatusMessage.Stage
STAGE_OF_STATUS: dict[str, str] = {
    Generation.Status.PENDING: Stage.QUEUED,
    Generation.Status.PROCESSING: Stage.GENERATING,
    Generation.Status.COMPLETED: Stage.DONE,
    Generation.Status.FAILED: Stage.FAILED,
    Generation.Status.CANCELLED: Stage.CANCELLED,
}
# The stages only move forward, so a holder that looks again after each edit makes at
# most this many edits in one call.
MAX_EDITS_PER_CALL = len(Stage.choices)
# Clocks of the machines that schedule and run a retry may disagree a little.
CLOCK_SKEW = timedelta(seconds=2)


class ProgressOutcome(enum.StrEnum):
    EDITED = "edited"
    UP_TO_DATE = "up_to_date"
    NO_MESSAGE = "no_message"  # not started in the chat, or its message is not sent yet
    BUSY = "busy"  # another task is editing it (it looks again afterwards) or waits out a 429
    RETRY_SCHEDULED = "retry_scheduled"
    GAVE_UP = "gave_up"


def status_message_sync(*, generation_id: int) -> ProgressOutcome:
    """Edit the generation's status message to its current stage, if it needs it."""
    return status_message_sync_from(status_message=_status_message_read(generation_id))


def status_message_sync_from(*, status_message: StatusMessage | None) -> ProgressOutcome:
    """`status_message_sync`, starting from the status message as the caller has just read
    it with its generation, model and user (None: the generation has none), so that a
    caller that reads the generation anyway (the notification) costs no statement more:
    most generations (started in the Mini App) have no status message, and whether one
    has is decided by its start."""
    edited = False
    for attempt in range(MAX_EDITS_PER_CALL):
        if status_message is None or status_message.message_id is None:
            return ProgressOutcome.NO_MESSAGE
        stage = STAGE_OF_STATUS[status_message.generation.status]
        if status_message.shown == stage:
            return ProgressOutcome.EDITED if edited else ProgressOutcome.UP_TO_DATE
        lease = _lease_take(status_message)
        if lease is None:
            return ProgressOutcome.BUSY
        outcome = _edit(status_message, message_id=status_message.message_id, stage=stage, lease=lease)
        if outcome != ProgressOutcome.EDITED:
            return outcome
        edited = True
        if attempt + 1 < MAX_EDITS_PER_CALL:  # look again: the stage may have moved during the edit
            status_message = _status_message_read(status_message.pk)
    return ProgressOutcome.EDITED


def _status_message_read(generation_id: int) -> StatusMessage | None:
    return (
        StatusMessage.objects.select_related("generation__model", "generation__user")
        .filter(pk=generation_id, message_id__isnull=False).first()
    )


def _lease_take(status_message: StatusMessage) -> datetime | None:
    """The edit lease for the one task whose conditional UPDATE wins; None for the others."""
    now = timezone.now()
    # Long enough for one edit call and its timeouts; a killed worker's lease runs out.
    lease = now + timedelta(seconds=2 * settings.TELEGRAM_API_TIMEOUT + 10)
    free = Q(editing_until__isnull=True) | Q(editing_until__lte=now + CLOCK_SKEW)
    taken = StatusMessage.objects.filter(free, pk=status_message.pk, shown=status_message.shown).update(
        editing_until=lease
    )
    return lease if taken else None


def _lease_release(status_message: StatusMessage, *, lease: datetime, **changes: object) -> None:
    StatusMessage.objects.filter(pk=status_message.pk, editing_until=lease).update(editing_until=None, **changes)


def status_text(generation: Generation, *, stage: str) -> str:
    with translation.override(user_language(generation.user.language_code)):
        return chat_texts.status(
            stage=stage, model_name=generation.model.name, credits=generation.credits_charged,
            reason=generation.error_message,
        )


def _edit(status_message: StatusMessage, *, message_id: int, stage: str, lease: datetime) -> ProgressOutcome:
    generation = status_message.generation
    try:
        # Outside any transaction: a network call.
        bot_edit_text(chat_id=status_message.chat_id, message_id=message_id,
                      text=status_text(generation, stage=stage))
    except TelegramError as exc:
        error = telegram_error_classify(exc)
        if error.failure == TelegramFailure.TRANSIENT:
            return _retry_later(status_message, stage=stage, lease=lease, retry_after=error.retry_after,
                                detail=error.detail)
        if error.failure == TelegramFailure.UNREACHABLE:
            user_set_reachable(user_id=generation.user_id, reachable=False)
        if error.failure == TelegramFailure.UNREACHABLE or "not modified" not in error.message.lower():
            logger.warning("generation %s: status message not edited: %s", generation.pk, error.detail)
            _lease_release(status_message, lease=lease, shown=stage, attempts=0)
            return ProgressOutcome.GAVE_UP
        # "Not modified": an earlier edit to this stage went through, but its answer was lost.
    _lease_release(status_message, lease=lease, shown=stage, attempts=0)
    logger.info("generation %s: status message shows %s", generation.pk, stage)
    return ProgressOutcome.EDITED


def _retry_later(status_message: StatusMessage, *, stage: str, lease: datetime, retry_after: float | None,
                 detail: str) -> ProgressOutcome:
    attempts = status_message.attempts + 1
    generation_id = status_message.pk
    if attempts >= settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS:
        logger.warning("generation %s: status message edit given up after %s tries: %s", generation_id, attempts,
                       detail)
        _lease_release(status_message, lease=lease, shown=stage, attempts=0)
        return ProgressOutcome.GAVE_UP
    # The lease is kept until the retry is due (after a 429, nobody edits sooner: that
    # is Telegram's flood control honoured); the schedule and the lease change together.
    with transaction.atomic():
        due = task_retry_schedule(
            func=GENERATION_PROGRESS, kwargs={"generation_id": generation_id}, attempt=attempts,
            base=settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS, maximum=settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS,
            retry_after=retry_after, name=f"status message {generation_id} try {attempts + 1}",
        )
        kept = StatusMessage.objects.filter(pk=generation_id, editing_until=lease).update(
            editing_until=due, attempts=F("attempts") + 1
        )
        if not kept:
            transaction.set_rollback(True)
            return ProgressOutcome.BUSY
    logger.warning("generation %s: status message edit retried at %s (%s)", generation_id,
                   due.isoformat(timespec="seconds"), detail)
    return ProgressOutcome.RETRY_SCHEDULED
