"""Writes of broadcasts, re-exported here: `from telegram_bot.broadcasts.services import broadcast_start`."""

from telegram_bot.broadcasts.services.compose import (
    DRAFT_FIELDS,
    BroadcastMessage,
    broadcast_content_problems,
    broadcast_content_refusal,
    broadcast_draft_save,
    broadcast_message,
    broadcast_preview,
)
from telegram_bot.broadcasts.services.lifecycle import (
    broadcast_cancel,
    broadcast_pause,
    broadcast_resume,
    broadcast_start,
    broadcasts_resume,
    resume_schedule_ensure,
)
from telegram_bot.broadcasts.services.sending import RunOutcome, broadcast_run
from telegram_bot.broadcasts.services.throttle import send_bucket_pause, send_tokens_take

__all__ = [
    "DRAFT_FIELDS",
    "BroadcastMessage",
    "RunOutcome",
    "broadcast_cancel",
    "broadcast_content_problems",
    "broadcast_content_refusal",
    "broadcast_draft_save",
    "broadcast_message",
    "broadcast_pause",
    "broadcast_preview",
    "broadcast_resume",
    "broadcast_run",
    "broadcast_start",
    "broadcasts_resume",
    "resume_schedule_ensure",
    "send_bucket_pause",
    "send_tokens_take",
]
