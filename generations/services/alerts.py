"""Alerts to the admins' chat about the generation service itself (the provider account
is out of credits, its key is refused): every generation fails until staff act.

The bot sends them (`telegram_bot.tasks.admin_alert_send`, enqueued by name: a lower
app never imports the bot). At most one alert per kind in ADMIN_ALERT_INTERVAL_SECONDS,
so a hundred failing generations make one message, not a hundred; the limit lives in
the cache (shared by all processes with Redis, per process otherwise).
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django_q.tasks import async_task

from core.task_names import ADMIN_ALERT_SEND

logger = logging.getLogger(__name__)


def admin_alert_enqueue(*, text: str, rate_key: str) -> bool:
    """Queue `text` for ADMIN_ALERT_CHAT_ID unless an alert with `rate_key` went out in
    the last ADMIN_ALERT_INTERVAL_SECONDS; True when queued. Never raises: a lost alert
    must not break the work that raised it."""
    if not settings.ADMIN_ALERT_CHAT_ID:
        return False
    key = f"generations:admin-alert:{rate_key}"[:200]
    try:
        if not cache.add(key, 1, timeout=settings.ADMIN_ALERT_INTERVAL_SECONDS):
            logger.info("admin alert %s suppressed (rate limit)", rate_key)
            return False
        async_task(ADMIN_ALERT_SEND, text=text)
    except Exception:
        logger.exception("could not queue the admin alert %s", rate_key)
        return False
    return True
