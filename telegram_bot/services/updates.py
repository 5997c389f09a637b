"""Telegram updates are stored before they are acknowledged, then processed once.

The webhook and the polling loop call `update_store` before Telegram may forget
the update (the webhook's 200, the next getUpdates offset). Whoever processes it
(the bot at once; the worker for what the bot did not finish) calls `update_claim`,
a conditional UPDATE that exactly one caller wins, and then `update_processed` or
`update_failed` with the attempt number the claim returned: a claim taken over
after its lease ran out cannot be finished by the slow process that lost it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from core.scheduling import backoff_seconds
from telegram_bot.models import TelegramUpdate
from telegram_bot.services.alerts import admin_alert

logger = logging.getLogger(__name__)

Status = TelegramUpdate.Status

# Message contents that name what a message update is about (the rest are "message").
_MESSAGE_KINDS = ("successful_payment", "refunded_payment")
PRUNE_BATCH = 5000
PRUNE_MAX_BATCHES = 20


class UpdateInvalid(ValueError):
    """Not a Telegram update: no integer update_id, or not a JSON object."""


@dataclass(frozen=True)
class StoreResult:
    update_id: int
    # False: Telegram delivered it again (it was stored before).
    created: bool
    # Whether it is waiting for its first attempt, so the receiver should process it now.
    waiting: bool


@dataclass(frozen=True)
class Claim:
    update_id: int
    payload: dict[str, Any]
    # The claim's number: finishing it names it, so a taken-over claim finishes nothing.
    attempt: int


def update_id_of(payload: object) -> int:
    """The update_id of a raw update; raises UpdateInvalid."""
    if not isinstance(payload, dict):
        raise UpdateInvalid("an update is a JSON object")
    update_id = payload.get("update_id")
    # bool is an int in Python; Telegram's ids are positive 32-bit numbers, kept in a bigint.
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**63:
        raise UpdateInvalid("an update has an integer update_id")
    return update_id


def update_kind(payload: dict[str, Any]) -> str:
    """message, callback_query, pre_checkout_query...; successful_payment and
    refunded_payment for those service messages."""
    kind = next((key for key in payload if key != "update_id"), "")
    content = payload.get(kind)
    if kind == "message" and isinstance(content, dict):
        kind = next((name for name in _MESSAGE_KINDS if name in content), kind)
    return kind[:32]


def _telegram_user_id(payload: dict[str, Any]) -> int | None:
    for value in payload.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            user_id = value["from"].get("id")
            if isinstance(user_id, int) and not isinstance(user_id, bool) and abs(user_id) < 2**63:
                return user_id
    return None


def update_store(*, payload: dict[str, Any]) -> StoreResult:
    """Store a received update (committed when this returns), or find it stored.

    Raises UpdateInvalid for something that is not an update, and any database
    error as it is: the caller must then not acknowledge the update, so that
    Telegram delivers it again.
    """
    update_id = update_id_of(payload)
    now = timezone.now()
    try:
        with transaction.atomic():
            TelegramUpdate.objects.create(
                update_id=update_id,
                kind=update_kind(payload),
                telegram_user_id=_telegram_user_id(payload),
                payload=payload,
                next_attempt_at=now,
            )
    except IntegrityError:
        status, attempts = TelegramUpdate.objects.filter(pk=update_id).values_list("status", "attempts").get()
        waiting = status == Status.PENDING and attempts == 0
        if not waiting:
            logger.info("update %s delivered again: dropped", update_id)
        return StoreResult(update_id=update_id, created=False, waiting=waiting)
    return StoreResult(update_id=update_id, created=True, waiting=True)


def update_claim(*, update_id: int) -> Claim | None:
    """Take on a stored update: a pending one that is due, or one whose claim's
    lease ran out (its process died). None when it is not there to take: processed,
    failed, claimed by another, or waiting for a later retry."""
    now = timezone.now()
    claimable = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.PROCESSING, lease_until__lt=now)
    # One UPDATE: PostgreSQL re-checks the condition on the locked row, so of any
    # number of concurrent claims (the bot, a repeat delivery, workers) one wins.
    claimed = TelegramUpdate.objects.filter(claimable, pk=update_id).update(
        status=Status.PROCESSING,
        attempts=F("attempts") + 1,
        lease_until=now + timedelta(seconds=settings.TELEGRAM_UPDATE_LEASE_SECONDS),
    )
    if not claimed:
        return None
    payload, attempt = TelegramUpdate.objects.filter(pk=update_id).values_list("payload", "attempts").get()
    return Claim(update_id=update_id, payload=payload, attempt=attempt)


def update_processed(*, update_id: int, attempt: int) -> bool:
    """The claim's handlers all ran; False when the claim had been taken over."""
    done = TelegramUpdate.objects.filter(pk=update_id, status=Status.PROCESSING, attempts=attempt).update(
        status=Status.PROCESSED, processed_at=timezone.now(), lease_until=None
    )
    if not done:
        logger.warning("update %s: attempt %s finished after its claim was taken over", update_id, attempt)
    return bool(done)


def update_failed(*, update_id: int, attempt: int, error: str) -> str | None:
    """A handler failed: try again later with backoff, or, after
    TELEGRAM_UPDATE_MAX_ATTEMPTS, give up and tell staff. Returns the new status
    (None when the claim had been taken over)."""
    now = timezone.now()
    error = error[:500]
    claim = TelegramUpdate.objects.filter(pk=update_id, status=Status.PROCESSING, attempts=attempt)
    if attempt >= settings.TELEGRAM_UPDATE_MAX_ATTEMPTS:
        if not claim.update(status=Status.FAILED, lease_until=None, last_error=error):
            return None
        logger.error("update %s failed %s times, given up (for staff): %s", update_id, attempt, error)
        admin_alert(text=(
            f"🧯 Telegram update {update_id} failed {attempt} times and is no longer retried: {error}\n"
            "Admin: Telegram updates, status \"failed\" (retry it there once the cause is fixed)."
        ))
        return Status.FAILED
    delay = backoff_seconds(
        attempt=attempt,
        base=settings.TELEGRAM_UPDATE_RETRY_BASE_SECONDS,
        maximum=settings.TELEGRAM_UPDATE_RETRY_MAX_SECONDS,
    )
    if not claim.update(status=Status.PENDING, lease_until=None, last_error=error,
                        next_attempt_at=now + timedelta(seconds=delay)):
        return None
    logger.warning("update %s: attempt %s failed, the worker retries in %ss: %s", update_id, attempt, delay, error)
    return Status.PENDING


def updates_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Stored updates the worker should process: pending ones due for a retry (or
    never taken on by the bot within a first retry delay), and claims whose lease
    ran out. Oldest first."""
    now = now or timezone.now()
    fresh_after = now - timedelta(seconds=settings.TELEGRAM_UPDATE_RETRY_BASE_SECONDS)
    due = (
        Q(status=Status.PENDING, next_attempt_at__lte=now, received_at__lte=fresh_after)
        | Q(status=Status.PROCESSING, lease_until__lt=now)
    )
    return list(
        TelegramUpdate.objects.filter(due).order_by("next_attempt_at").values_list("update_id", flat=True)[:limit]
    )


def update_retry(*, update_id: int, staff: User) -> bool:
    """Staff: process a failed update again, with a fresh set of attempts. False when
    it is not failed (any more)."""
    retried = TelegramUpdate.objects.filter(pk=update_id, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), lease_until=None
    )
    if retried:
        logger.info("update %s: retry requested by staff %s", update_id, staff.pk)
    return bool(retried)


def updates_prune(*, now: datetime | None = None) -> int:
    """Delete processed updates older than TELEGRAM_UPDATES_KEEP_DAYS; returns how many.
    Pending and failed ones stay whatever their age: they are work or evidence."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TELEGRAM_UPDATES_KEEP_DAYS)
    old = TelegramUpdate.objects.filter(status=Status.PROCESSED, received_at__lt=cutoff)
    deleted = 0
    # In batches: a day's updates can be many, and one huge DELETE holds its locks long.
    for _ in range(PRUNE_MAX_BATCHES):
        ids = list(old.values_list("update_id", flat=True)[:PRUNE_BATCH])
        if not ids:
            break
        deleted += TelegramUpdate.objects.filter(pk__in=ids, status=Status.PROCESSED).delete()[0]
    return deleted
