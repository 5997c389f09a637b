"""Writes of the bot, re-exported here: `from telegram_bot.services import bot_user_start`."""

from telegram_bot.services.alerts import (
    admin_alert,
    admin_alert_deliver,
    payment_issue_alert_text,
    payment_refunded_outside_alert_text,
    paysupport_request,
    user_message_withdrawal_decided,
    withdrawal_requested_alert_text,
)
from telegram_bot.services.chat import (
    ChatStart,
    bot_model_set,
    chat_generation_again,
    chat_generation_start,
    chat_idempotency_key,
    status_message_sent,
)
from telegram_bot.services.files import result_files_request, result_files_send
from telegram_bot.services.notifications import NotifyOutcome, generation_notification_send
from telegram_bot.services.progress import ProgressOutcome, status_message_sync
from telegram_bot.services.updates import (
    Claim,
    StoreResult,
    UpdateInvalid,
    update_claim,
    update_failed,
    update_id_of,
    update_processed,
    update_retry,
    update_store,
    updates_due,
    updates_prune,
)
from telegram_bot.services.users import StartResult, bot_user_blocked, bot_user_seen, bot_user_start

__all__ = [
    "ChatStart",
    "Claim",
    "NotifyOutcome",
    "ProgressOutcome",
    "StartResult",
    "StoreResult",
    "UpdateInvalid",
    "admin_alert",
    "admin_alert_deliver",
    "bot_model_set",
    "bot_user_blocked",
    "bot_user_seen",
    "bot_user_start",
    "chat_generation_again",
    "chat_generation_start",
    "chat_idempotency_key",
    "generation_notification_send",
    "payment_issue_alert_text",
    "payment_refunded_outside_alert_text",
    "paysupport_request",
    "result_files_request",
    "result_files_send",
    "status_message_sent",
    "status_message_sync",
    "update_claim",
    "update_failed",
    "update_id_of",
    "update_processed",
    "update_retry",
    "update_store",
    "updates_due",
    "updates_prune",
    "user_message_withdrawal_decided",
    "withdrawal_requested_alert_text",
]
