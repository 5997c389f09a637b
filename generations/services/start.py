"""Starting a generation: the one transaction the whole business rests on.

Under the user's row lock, in the contract's order: idempotency, rate limit, active
limit, credits; then the generation is inserted, its price debited through the
ledger, and the worker is told on commit. The lock serialises one user's starts, so
the limits hold exactly however many requests arrive at once; the partial unique
constraint on (user, idempotency_key) is the backstop that makes concurrent repeats
of one key create exactly one generation even for a writer that skips the lock.

Budget: a start costs 6 queries (model, lock, one aggregate for the idempotency key,
the rate window and the active count, the generation insert, the balance update and
the ledger insert) plus the enqueue after commit.
"""

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from accounts.models import CreditKind, User
from accounts.services import credits_apply, user_lock
from generations.errors import (
    DuplicateRequest,
    IdempotencyKeyReused,
    MaxActiveGenerations,
    ModelUnavailable,
    RateLimitExceeded,
)
from generations.models import AIModel, Generation
from generations.params import params_clean
from generations.selectors import generation_get_by_key, model_get_active
from generations.services.lifecycle import generation_reference
from nanogen.errors import InsufficientCredits, UserBanned, ValidationFailed

logger = logging.getLogger(__name__)

# The worker's entry point, named rather than imported: the task module belongs to
# the worker and django_q stores only the dotted name.
RUN_TASK = "generations.tasks.generation_run"

RATE_WINDOW = timedelta(seconds=60)

# An idempotency key names one intent of one user: 1 to 64 URL- and log-safe characters.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def generation_start(
    *,
    user: User,
    model_slug: str,
    prompt: str,
    params: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Generation:
    """Start a generation for `user` and hand it to the worker once committed.

    Raises (in this order): ModelUnavailable / ValidationFailed, DuplicateRequest
    (same key and payload: nothing is debited), IdempotencyKeyReused (same key, other
    payload), RateLimitExceeded, MaxActiveGenerations, InsufficientCredits.
    """
    prompt = prompt.strip()
    if not prompt:
        raise ValidationFailed(details={"prompt": [_("This field may not be blank.")]})
    if len(prompt) > settings.GENERATION_PROMPT_MAX_LENGTH:
        raise ValidationFailed(
            details={
                "prompt": [
                    _("Ensure this field has no more than %(max)d characters.")
                    % {"max": settings.GENERATION_PROMPT_MAX_LENGTH}
                ]
            }
        )
    if idempotency_key is not None and not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise ValidationFailed(details={"idempotency_key": [_("Use 1 to 64 characters: letters, digits, and . _ : -")]})
    model = model_get_active(slug=model_slug)
    if model is None:
        raise ModelUnavailable(details={"model": model_slug[:64]})
    params = params_clean(schema=model.params_schema, params=params or {})
    payload_hash = payload_fingerprint(model_slug=model.slug, prompt=prompt, params=params)

    try:
        generation = _start_locked(
            user_id=user.pk,
            model=model,
            prompt=prompt,
            params=params,
            idempotency_key=idempotency_key,
            payload_hash=payload_hash,
        )
    except IntegrityError:
        # Another writer took the key between our check and our insert (the
        # constraint waited for it to commit, so its generation is visible now).
        # The whole transaction rolled back: nothing was debited.
        holder = generation_get_by_key(user_id=user.pk, idempotency_key=idempotency_key) if idempotency_key else None
        if holder is None:
            raise
        if holder.payload_hash == payload_hash:
            raise DuplicateRequest(generation=holder) from None
        raise IdempotencyKeyReused() from None

    logger.info(
        "generation %s started: user %s, model %s, %s credits", generation.pk, user.pk, model.slug, model.price
    )
    return generation


def _start_locked(
    *,
    user_id: int,
    model: AIModel,
    prompt: str,
    params: dict[str, Any],
    idempotency_key: str | None,
    payload_hash: str,
) -> Generation:
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        # The locked row is the freshest word on a ban set after authentication.
        if user.is_banned:
            raise UserBanned()
        # Everything below is read after the lock is granted, in statements of their
        # own: under READ COMMITTED each sees the starts committed before the lock.
        now = timezone.now()
        usage = _usage(user_id=user.pk, now=now, idempotency_key=idempotency_key)

        if usage.key_holder_id is not None:
            if usage.key_holder_hash != payload_hash:
                raise IdempotencyKeyReused()
            holder = Generation.objects.select_related("model").filter(pk=usage.key_holder_id).first()
            if holder is not None:
                raise DuplicateRequest(generation=holder)

        limit = settings.GENERATION_RATE_LIMIT_PER_MINUTE
        if usage.recent >= limit:
            retry_after = _seconds_until(usage.oldest_recent + RATE_WINDOW, now=now)
            raise RateLimitExceeded(
                details={"limit": limit, "retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
            )

        max_active = settings.GENERATION_MAX_ACTIVE
        if usage.active >= max_active:
            retry_after = settings.GENERATION_MAX_ACTIVE_RETRY_AFTER
            raise MaxActiveGenerations(
                details={"limit": max_active, "active": usage.active}, headers={"Retry-After": str(retry_after)}
            )

        if user.credits < model.price:
            raise InsufficientCredits(details={"balance": user.credits, "price": model.price})

        generation = Generation.objects.create(
            user=user,
            model=model,
            kind=model.kind,
            prompt=prompt,
            params=params,
            status=Generation.Status.PENDING,
            credits_charged=model.price,
            idempotency_key=idempotency_key or None,
            payload_hash=payload_hash,
            timeout_at=now + timedelta(seconds=settings.GENERATION_TIMEOUT_SECONDS),
        )
        credits_apply(
            user=user,
            amount=-model.price,
            kind=CreditKind.GENERATION_CHARGE,
            reference=generation_reference(generation.pk),
            note=model.slug,
        )
        # robust: the generation and its debit are committed whatever the queue does;
        # if the enqueue fails the sweeper re-enqueues pending generations, so the
        # client still gets its 201 instead of a 500 for work that was accepted.
        generation_id = generation.pk
        transaction.on_commit(lambda: async_task(RUN_TASK, generation_id), robust=True)
    return generation


@dataclass(frozen=True)
class _Usage:
    active: int
    recent: int
    oldest_recent: datetime | None
    key_holder_id: int | None
    key_holder_hash: str | None


def _usage(*, user_id: int, now: datetime, idempotency_key: str | None) -> _Usage:
    """The user's active count, starts in the rate window and the holder of the
    idempotency key, in one query (each condition has its own index)."""
    active = Q(status__in=Generation.ACTIVE_STATUSES)
    recent = Q(created_at__gt=now - RATE_WINDOW)
    relevant = active | recent
    aggregates: dict[str, Any] = {
        "active": Count("pk", filter=active),
        "recent": Count("pk", filter=recent),
        "oldest_recent": Min("created_at", filter=recent),
    }
    if idempotency_key:
        holds_key = Q(idempotency_key=idempotency_key, status__in=Generation.KEY_HOLDING_STATUSES)
        relevant |= holds_key
        aggregates["key_holder_id"] = Max("pk", filter=holds_key)
        aggregates["key_holder_hash"] = Max("payload_hash", filter=holds_key)
    row = Generation.objects.filter(Q(user_id=user_id) & relevant).aggregate(**aggregates)
    return _Usage(
        active=row["active"],
        recent=row["recent"],
        oldest_recent=row["oldest_recent"],
        key_holder_id=row.get("key_holder_id"),
        key_holder_hash=row.get("key_holder_hash"),
    )


def _seconds_until(moment: datetime | None, *, now: datetime) -> int:
    if moment is None:
        return 1
    return max(1, math.ceil((moment - now).total_seconds()))


def payload_fingerprint(*, model_slug: str, prompt: str, params: dict[str, Any]) -> str:
    """What one intent asked for; a repeat of its idempotency key must match it.

    Taken after cleaning (stripped prompt, defaults filled in), so `{}` and the
    explicit defaults are the same intent.
    """
    canonical = json.dumps(
        {"model": model_slug, "prompt": prompt, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
