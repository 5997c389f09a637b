"""Listeners of payments' and generations' events (registered in `TelegramBotConfig.ready`).

They run in whatever process made the event (the web process, the bot, the worker),
after its transaction committed, and only enqueue a Django-Q2 task: the worker
builds the message and talks to Telegram, so an outage there never slows down
or breaks a payment or a generation. Kept free of python-telegram-bot imports for the same reason.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import router
from django.db.backends.base.base import BaseDatabaseWrapper
from django_q.tasks import async_task

from core.statements import Statement, model_column
from core.task_names import (
    GENERATION_PROGRESS,
    PAYMENT_ISSUE_ALERT,
    PAYMENT_REFUNDED_OUTSIDE_ALERT,
    WITHDRAWAL_DECIDED_NOTIFY,
    WITHDRAWAL_REQUESTED_ALERT,
)
from telegram_bot.models import StatusMessage

logger = logging.getLogger(__name__)


def task_enqueue(func: str, **kwargs: Any) -> bool:
    """async_task that never raises: a lost alert must not fail the caller's work."""
    try:
        async_task(func, **kwargs)
    except Exception:
        logger.exception("could not enqueue %s", func)
        return False
    return True


def on_payment_issue(*, issue_id: int) -> None:
    if settings.ADMIN_ALERT_CHAT_ID:
        task_enqueue(PAYMENT_ISSUE_ALERT, issue_id=issue_id)


def on_payment_refunded_outside(*, payment_id: int) -> None:
    if settings.ADMIN_ALERT_CHAT_ID:
        task_enqueue(PAYMENT_REFUNDED_OUTSIDE_ALERT, payment_id=payment_id)


def on_withdrawal_requested(*, withdrawal_id: int) -> None:
    if settings.ADMIN_ALERT_CHAT_ID:
        task_enqueue(WITHDRAWAL_REQUESTED_ALERT, withdrawal_id=withdrawal_id)


def on_withdrawal_decided(*, withdrawal_id: int) -> None:
    task_enqueue(WITHDRAWAL_DECIDED_NOTIFY, withdrawal_id=withdrawal_id)


def on_generation_claimed(*, generation_id: int) -> None:
    """A worker took the generation up: its status message in the chat, if it was started
    there, is to say "generating". One primary-key lookup here instead of a task for every
    generation (those started in the Mini App have no status message)."""
    if _STATUS_MESSAGE_EXISTS.rows([generation_id], using=router.db_for_read(StatusMessage)):
        async_task(GENERATION_PROGRESS, generation_id, task_name=f"progress-{generation_id}")


def _status_message_exists_sql(db: BaseDatabaseWrapper) -> str:
    table = db.ops.quote_name(StatusMessage._meta.db_table)
    return f"SELECT 1 FROM {table} WHERE {model_column(db, StatusMessage, 'generation')} = %s"  # noqa: S608 - quoted names from the model's meta


# `StatusMessage.objects.filter(pk=...).exists()`, built once and prepared: every claim runs it.
_STATUS_MESSAGE_EXISTS = Statement(_status_message_exists_sql)
