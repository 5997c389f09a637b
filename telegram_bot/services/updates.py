"""Each Telegram update is handled once."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from telegram_bot.models import ProcessedUpdate

logger = logging.getLogger(__name__)

# Telegram numbers updates one after another: pruning on every PRUNE_EVERY-th id
# keeps the table small without a schedule, and each prune deletes about that many rows.
PRUNE_EVERY = 500


def update_mark_processed(*, update_id: int) -> bool:
    """Record that the bot takes on this update; False when it already did (a
    repeat, to be dropped before it has any effect)."""
    try:
        with transaction.atomic():
            ProcessedUpdate.objects.create(update_id=update_id)
    except IntegrityError:
        logger.info("update %s delivered again: dropped", update_id)
        return False
    if update_id % PRUNE_EVERY == 0:
        processed_updates_prune()
    return True


def processed_updates_prune() -> int:
    """Forget updates older than TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS)
    deleted, _ = ProcessedUpdate.objects.filter(created_at__lt=cutoff).delete()
    return deleted
