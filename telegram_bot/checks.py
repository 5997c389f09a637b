"""Start-up checks of the bot's settings (`manage.py check`, and before every command)."""

import os
import re
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

# Telegram's rule for a webhook's secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def webhook_settings_problem() -> str | None:
    """Why webhook mode cannot run with the current settings, or None."""
    if not settings.TELEGRAM_WEBHOOK_URL:
        return None
    if settings.TELEGRAM_API_LOCAL:
        # A self-hosted Bot API server delivers webhooks over plain HTTP too (often on a private network).
        if not settings.TELEGRAM_WEBHOOK_URL.startswith(("https://", "http://")):
            return "TELEGRAM_WEBHOOK_URL must be an http:// or https:// address."
    elif not settings.TELEGRAM_WEBHOOK_URL.startswith("https://"):
        return (
            "TELEGRAM_WEBHOOK_URL must be an https:// address: Telegram delivers webhooks only over HTTPS "
            "(a self-hosted Bot API server, TELEGRAM_API_LOCAL=true, also takes http://)."
        )
    if not settings.TELEGRAM_WEBHOOK_SECRET:
        return (
            "TELEGRAM_WEBHOOK_SECRET is not set. In webhook mode it is required: without it anybody could post "
            "fake updates (payments included) to the webhook. Set 1-256 characters of A-Z, a-z, 0-9, _ and -."
        )
    if not WEBHOOK_SECRET_PATTERN.match(settings.TELEGRAM_WEBHOOK_SECRET):
        return "TELEGRAM_WEBHOOK_SECRET may only have 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)."
    return None


def bot_settings_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    problem = webhook_settings_problem()
    if problem:
        messages.append(Error(problem, id="telegram_bot.E001"))
    for name, minimum in (
        ("TELEGRAM_BOT_CONCURRENT_UPDATES", 1),
        ("TELEGRAM_NOTIFY_MAX_ATTEMPTS", 1),
        # Telegram retries an update for up to a day: a shorter memory lets repeats through.
        ("TELEGRAM_UPDATES_KEEP_DAYS", 2),
        ("ADMIN_ALERT_INTERVAL_SECONDS", 0),
        ("TELEGRAM_UPDATE_MAX_ATTEMPTS", 1),
        ("TELEGRAM_UPDATE_LEASE_SECONDS", 1),
        ("TELEGRAM_UPDATE_RETRY_BASE_SECONDS", 0),
        # Telegram's updates are a few kilobytes; a smaller limit would refuse real ones.
        ("TELEGRAM_WEBHOOK_MAX_BODY_BYTES", 64 * 1024),
    ):
        if getattr(settings, name) < minimum:
            messages.append(Error(f"{name} must be at least {minimum}.", id="telegram_bot.E002"))
    if settings.TELEGRAM_UPDATE_RETRY_MAX_SECONDS < settings.TELEGRAM_UPDATE_RETRY_BASE_SECONDS:
        messages.append(Error("TELEGRAM_UPDATE_RETRY_MAX_SECONDS cannot be below TELEGRAM_UPDATE_RETRY_BASE_SECONDS.",
                              id="telegram_bot.E002"))
    if settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS < 0 or settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS < 0:
        messages.append(Error("The TELEGRAM_NOTIFY_RETRY_* delays cannot be negative.", id="telegram_bot.E002"))
    if not 0 < settings.BOT_ALBUM_WAIT_SECONDS <= 60:
        messages.append(Error("BOT_ALBUM_WAIT_SECONDS must be above 0 and at most 60.", id="telegram_bot.E002"))
    if not 1 <= settings.BOT_PENDING_INPUT_MINUTES < 60 * settings.UPLOAD_KEEP_HOURS:
        # The waiting images are uploads no generation used yet: the sweeper deletes those.
        messages.append(Error("BOT_PENDING_INPUT_MINUTES must be at least 1 and below UPLOAD_KEEP_HOURS.",
                              id="telegram_bot.E002"))
    if os.environ.get("TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS"):
        messages.append(Warning(
            "TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS is no longer read: it is TELEGRAM_UPDATES_KEEP_DAYS now.",
            id="telegram_bot.W004",
        ))
    if not settings.TELEGRAM_BOT_ENABLED:
        return messages
    if not settings.MINI_APP_URL.startswith("https://"):
        messages.append(Warning(
            "MINI_APP_URL is not an https:// address: Telegram opens Mini Apps only over HTTPS, so the bot "
            "shows the address as text instead of an app button.", id="telegram_bot.W001",
        ))
    if not settings.TELEGRAM_SUPPORT_CONTACT and not settings.ADMIN_ALERT_CHAT_ID:
        messages.append(Warning(
            "Neither TELEGRAM_SUPPORT_CONTACT nor ADMIN_ALERT_CHAT_ID is set: /paysupport, which Telegram requires "
            "of bots that sell for Stars, can point users at nobody.", id="telegram_bot.W002",
        ))
    # Two uploads (a photo refused, then sent as a document) must fit in one task.
    if 2 * settings.TELEGRAM_UPLOAD_TIMEOUT + settings.TELEGRAM_API_TIMEOUT >= settings.Q_CLUSTER["timeout"]:
        messages.append(Warning(
            "2 x TELEGRAM_UPLOAD_TIMEOUT + TELEGRAM_API_TIMEOUT does not fit in the worker's task timeout "
            "(Q_TIMEOUT): a slow upload would be killed.", id="telegram_bot.W003",
        ))
    return messages
