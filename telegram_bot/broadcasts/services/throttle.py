"""The send rate shared by every worker: a token bucket in the database.

Telegram lets a bot send about 30 messages a second in all; past that it answers
429 with `retry_after`. Workers on any number of machines take their tokens from
one `SendBucket` row under its row lock, so together they stay within
BROADCAST_RATE_PER_SECOND, with a burst of a tenth of a second's worth: in any one
second at most rate x 1.1 messages leave, 27.5 at the default of 25, which leaves
room for the network to bunch a few up on the way to Telegram's 30. A 429 empties
the bucket and closes it for `retry_after` seconds, for every worker at once.
Times come from the database (one clock for all machines); SQLite, for a local run,
uses this process's.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from telegram_bot.broadcasts.models import SendBucket

BROADCAST_BUCKET = "broadcasts"


@dataclass(frozen=True)
class Tokens:
    granted: int
    # When none were granted: how long to wait before asking again.
    wait_seconds: float


def _rate() -> float:
    return max(float(settings.BROADCAST_RATE_PER_SECOND), 0.1)


def _burst() -> float:
    return max(1.0, _rate() / 10)


def _locked_bucket(name: str) -> tuple[SendBucket, datetime]:
    """The bucket row under its row lock, created full on first use, and the time now."""
    for _attempt in range(2):
        bucket = SendBucket.objects.select_for_update().filter(name=name).annotate(db_now=Now()).first()
        if bucket is not None:
            now = bucket.db_now if connection.vendor == "postgresql" else timezone.now()
            return bucket, now
        SendBucket.objects.bulk_create([SendBucket(name=name, tokens=_burst(), refilled_at=timezone.now())],
                                       ignore_conflicts=True)
    raise RuntimeError(f"send bucket {name} cannot be created")


def send_tokens_take(*, wanted: int, name: str = BROADCAST_BUCKET) -> Tokens:
    """Up to `wanted` tokens now, or none and how long to wait for one."""
    rate, burst = _rate(), _burst()
    with transaction.atomic():
        bucket, now = _locked_bucket(name)
        if bucket.paused_until is not None and bucket.paused_until > now:
            return Tokens(granted=0, wait_seconds=(bucket.paused_until - now).total_seconds())
        # `now` is when this statement started, before it waited for the lock: it may be
        # earlier than the last holder's. The bucket's clock never goes back, so no
        # stretch of time is counted twice.
        refilled_at = max(bucket.refilled_at, now)
        available = min(burst, bucket.tokens + (refilled_at - bucket.refilled_at).total_seconds() * rate)
        granted = min(wanted, math.floor(available))
        if granted <= 0:
            return Tokens(granted=0, wait_seconds=max((1 - available) / rate, 0.01))
        SendBucket.objects.filter(name=name).update(tokens=available - granted, refilled_at=refilled_at)
        return Tokens(granted=granted, wait_seconds=0.0)


def send_bucket_pause(*, seconds: float, name: str = BROADCAST_BUCKET) -> None:
    """Nobody sends for `seconds` (Telegram's retry_after): the bucket is emptied and closed."""
    with transaction.atomic():
        bucket, now = _locked_bucket(name)
        until = now + timedelta(seconds=seconds)
        if bucket.paused_until is None or bucket.paused_until < until:
            SendBucket.objects.filter(name=name).update(tokens=0, refilled_at=until, paused_until=until)
