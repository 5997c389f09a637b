"""Telling a user that their generation finished: the results with the prompt as
caption and the buttons under them (`services.results`), or that it failed and the
credits came back. A generation started in the chat has a status message, which is
brought up to date first (`services.progress`) and says a failure itself.

At most one notification per generation, however often the task is delivered: the
send happens only after a conditional UPDATE pending -> sending that one
delivery wins (`GenerationNotification`). A notification of several messages (an
album, then its buttons) counts those sent, so a retry goes on from there. Telegram is called outside any
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
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone, translation
from telegram.error import TelegramError

from accounts.models import User
from accounts.services import user_set_reachable
from core.i18n import user_language
from core.scheduling import task_retry_schedule
from core.statements import Statement, model_column, model_columns, model_fields, models_from_row
from core.task_names import GENERATION_NOTIFY
from generations.models import AIModel, Generation
from telegram_bot import keyboards, texts
from telegram_bot.models import GenerationNotification, StatusMessage
from telegram_bot.sending import Outgoing, Sent, TelegramFailure, bot_send, telegram_error_classify
from telegram_bot.services.progress import status_message_sync_from
from telegram_bot.services.results import result_messages

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
    found = _finished_read(generation_id)
    if found is None:
        logger.warning("generation %s: no finished generation to notify about", generation_id)
        return NotifyOutcome.NOT_MINE
    generation, status_message = found
    first = _claim(generation_id)  # the parts already sent by an earlier try
    if first is None:
        return NotifyOutcome.NOT_MINE

    user = generation.user
    chat_id = user.telegram_id
    skip_reason = _skip_reason(generation)
    if skip_reason or chat_id is None:
        skip_reason = skip_reason or "no Telegram account"
        if generation.status == Generation.Status.CANCELLED:
            status_message_sync_from(status_message=status_message)  # a status message in the chat says so
        _finish(generation_id, status=Status.SKIPPED, detail=skip_reason)
        logger.info("generation %s: no notification (%s)", generation_id, skip_reason)
        return NotifyOutcome.SKIPPED

    # The status message of a generation started in the chat first ("done" above the
    # result); it handles Telegram's errors itself, and is cosmetic.
    status_message_sync_from(status_message=status_message)
    try:
        # Reads the media storage.
        messages = _messages_for(generation, chat_id=chat_id, in_chat=status_message is not None)
        if not messages:
            _finish(generation_id, status=Status.SKIPPED, detail="told in the status message")
            return NotifyOutcome.SKIPPED
        # Outside any transaction: an upload may take as long as TELEGRAM_UPLOAD_TIMEOUT.
        for index in range(first, len(messages)):
            sent = bot_send(messages[index])
            _part_sent(generation_id, messages=messages, index=index, sent=sent)  # the last one: sent
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
        # network error, try again later. A result that is gone is not this (see services.results).
        return _retry_or_fail(generation_id, retry_after=None, detail=f"media storage: {exc}")
    except Exception as exc:
        # Not Telegram's answer (python-telegram-bot wraps transport errors): our own bug.
        _finish(generation_id, status=Status.FAILED, detail=f"{type(exc).__name__}")
        raise

    if first >= len(messages):  # every part went out in an earlier try, which died before it recorded it
        _finish(generation_id, status=Status.SENT)
    logger.info("generation %s: user %s notified (%s messages)", generation_id, user.pk, len(messages))
    return NotifyOutcome.SENT


def _finished_read(generation_id: int) -> tuple[Generation, StatusMessage | None] | None:
    """The finished generation with its user and model, and its status message (None for
    a generation not started in the chat): one statement, prepared (every notification
    runs it)."""
    using = router.db_for_read(Generation)
    rows = _FINISHED.rows([generation_id, *Generation.FINAL_STATUSES], using=using)
    if not rows:
        return None
    instances = models_from_row(rows[0], Generation, User, AIModel, StatusMessage, using=using)
    generation, user, model, status_message = cast(
        tuple[Generation, User, AIModel, StatusMessage | None], tuple(instances)
    )
    generation.user = user
    generation.model = model
    if status_message is not None:
        status_message.generation = generation
    return generation, status_message


def _finished_sql(db: BaseDatabaseWrapper) -> str:
    quote = db.ops.quote_name
    tables = [quote(model._meta.db_table) for model in (Generation, User, AIModel, StatusMessage)]
    generation, user, model, status_message = tables
    meta = Generation._meta

    def column(name: str) -> str:
        return f"{generation}.{model_column(db, Generation, name)}"

    statuses = ", ".join("%s" for _ in Generation.FINAL_STATUSES)
    return (
        f"SELECT {model_columns(db, Generation, meta.db_table)}, "  # noqa: S608 - quoted names from the models' meta
        f"{model_columns(db, User, User._meta.db_table)}, {model_columns(db, AIModel, AIModel._meta.db_table)}, "
        f"{model_columns(db, StatusMessage, StatusMessage._meta.db_table)} "
        f"FROM {generation} "
        f"JOIN {user} ON {user}.{quote(User._meta.pk.column)} = {column('user')} "
        f"JOIN {model} ON {model}.{quote(AIModel._meta.pk.column)} = {column('model')} "
        f"LEFT JOIN {status_message} ON {status_message}.{quote(StatusMessage._meta.pk.column)} = {column('id')} "
        f"WHERE {column('id')} = %s AND {column('status')} IN ({statuses})"
    )


_FINISHED = Statement(_finished_sql, lambda: model_fields(Generation, User, AIModel, StatusMessage))


def _part_sent(generation_id: int, *, messages: list[Outgoing], index: int, sent: Sent) -> None:
    """Record one message of the notification as sent (the notification as sent, after
    its last), and the result files Telegram now holds (by their position among the
    generation's results).

    One statement on PostgreSQL, so atomic with no transaction of its own (a BEGIN and a
    COMMIT would be two round trips more on every notification): the result files'
    INSERT is a data-modifying CTE of the notification's conditional UPDATE."""
    position = sum(len(message.attachments) for message in messages[:index])
    now = timezone.now()
    changes: dict[str, object] = {"parts_sent": index + 1, "updated_at": now}
    if index == 0:
        changes.update(method=sent.method, telegram_message_id=sent.message_id)
    if index == len(messages) - 1:
        changes.update(status=Status.SENT, detail="", sent_at=now)
    params: dict[str, Any] = {**changes, "id": generation_id, "sending": Status.SENDING, "now": now,
                                 "chat_id": messages[index].chat_id}
    rows = []
    for offset, file in enumerate(sent.files):
        rows.append(f"(%(id)s, %(position_{offset})s, %(kind_{offset})s, %(file_id_{offset})s, %(chat_id)s, "
                    f"%(message_id_{offset})s, %(now)s)")
        params.update({f"position_{offset}": position + offset, f"kind_{offset}": file.kind,
                       f"file_id_{offset}": file.file_id, f"message_id_{offset}": file.message_id})
    insert = (
        "INSERT INTO telegram_bot_resultmessage "  # noqa: S608 - values are parameters
        "(generation_id, position, kind, file_id, chat_id, message_id, created_at) "
        f"VALUES {', '.join(rows)} ON CONFLICT (generation_id, position) DO NOTHING"
    ) if rows else ""
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    update = (
        f"UPDATE telegram_bot_generationnotification SET {assignments} "  # noqa: S608 - fixed column names
        "WHERE generation_id = %(id)s AND status = %(sending)s"
    )
    if not insert:
        with connection.cursor() as cursor:
            cursor.execute(update, params)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"WITH results AS ({insert}) {update}", params)
    else:  # SQLite (`make run`) has no data-modifying CTE: the same two in a transaction
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, params)
            cursor.execute(update, params)


def _claim(generation_id: int) -> int | None:
    """pending -> sending (a due retry too) for exactly one delivery of the task: the
    number of its parts sent before, None when it is not this delivery's to send.

    One statement: the notification's row is made (sending, first attempt) or, when it
    exists, taken if it is pending and due; a concurrent delivery waits for the row and
    then finds it sending."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO telegram_bot_generationnotification AS notification (generation_id, status, attempts,
                next_attempt_at, method, telegram_message_id, parts_sent, detail, created_at, updated_at, sent_at)
            VALUES (%(id)s, %(sending)s, 1, NULL, '', NULL, 0, '', %(now)s, %(now)s, NULL)
            ON CONFLICT (generation_id) DO UPDATE
                SET status = %(sending)s, attempts = notification.attempts + 1, next_attempt_at = NULL,
                    updated_at = %(now)s
                WHERE notification.status = %(pending)s
                    AND (notification.next_attempt_at IS NULL OR notification.next_attempt_at <= %(due)s)
            RETURNING parts_sent
            """,
            {"id": generation_id, "sending": Status.SENDING, "pending": Status.PENDING, "now": now,
             "due": now + CLOCK_SKEW},
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _finish(generation_id: int, *, status: GenerationNotification.Status, detail: str = "") -> None:
    GenerationNotification.objects.filter(pk=generation_id, status=Status.SENDING).update(
        status=status,
        detail=detail[:255],
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


def _messages_for(generation: Generation, *, chat_id: int, in_chat: bool) -> list[Outgoing]:
    """What tells the user: the results, or the failure (unless the status message in
    the chat says it already; `in_chat`: the generation has one, maybe not sent yet)."""
    user = generation.user
    if generation.status == Generation.Status.COMPLETED:
        return result_messages(generation, chat_id=chat_id)
    if in_chat and StatusMessage.objects.filter(pk=generation.pk, message_id__isnull=False).exists():
        return []
    with translation.override(user_language(user.language_code)):
        text = texts.generation_failed(
            prompt=generation.prompt,
            reason=generation.error_message,
            credits_returned=generation.credits_charged if generation.refunded else 0,
        )
        keyboard = keyboards.open_app_keyboard()
    return [Outgoing(chat_id=chat_id, text=text, reply_markup=keyboard)]
