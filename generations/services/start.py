"""Starting a generation: the one transaction the whole business rests on.

Under the user's row lock, in the contract's order: ban, validation (model, params),
idempotency, rate limit, active limit, credits; then the generation is inserted, its
price debited through the ledger, and the worker is told on commit. The lock
serialises one user's starts, so the limits hold exactly however many requests arrive
at once; the partial unique constraint on (user, idempotency_key) is the backstop that
makes concurrent repeats of one key create exactly one generation even for a writer
that skips the lock.

Budget: a successful start costs 8 SQL statements for the whole HTTP request, BEGIN
and COMMIT included:

1. authentication (the user by Telegram id);
2. BEGIN;
3. the debit, which is also the lock: one conditional UPDATE that takes the model's
   price (a subquery in the same statement, so one snapshot) from the user's balance
   when it covers it (`credits_debit_if_enough`), locking the row as FOR NO KEY UPDATE
   would, and returning the amount taken and the new balance;
4. one SELECT of the model row with the user's ban flag and usage (active count,
   starts in the rate window and the oldest of them, the holder of the idempotency
   key). A statement of its own, issued after the lock was granted: under READ
   COMMITTED it sees every start committed before, which is what makes the limits
   exact. (It must not be folded into the locking statement: a statement's snapshot
   is taken before it waits for the lock.) The checks then run in the contract's order;
   a refusal raises and the rollback returns the debit, so a DUPLICATE_REQUEST is never
   charged. The credits check of this path is that the amount debited equals the price
   read here: when staff changed the price between the two statements, the whole start
   is redone on the slow path, so a generation is always charged its model's price;
5. the generation insert;  6. the ledger insert (the debit's `balance_after`);
7. COMMIT;  8. the queue insert on commit.

The slow path, taken when the debit changed nothing (unknown or disabled model, credits
short) or the catalog moved under the fast path, locks the row first (`user_lock`), then
runs the same SELECT and checks, to give the right refusal, or to start at the price
read under the lock. Its cost does not matter: it ends in a refusal but for a race with
a price change or a refund.
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
from django.db.models import Count, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from accounts.errors import InsufficientCredits, UserBanned
from accounts.models import CreditKind, User
from accounts.services import Debit, credits_apply, credits_debit_if_enough, credits_ledger_record, user_lock
from core.errors import ValidationFailed
from core.task_names import GENERATION_RUN
from generations.errors import (
    DuplicateRequest,
    IdempotencyKeyReused,
    MaxActiveGenerations,
    ModelUnavailable,
    RateLimitExceeded,
)
from generations.models import AIModel, Generation
from generations.params import params_clean
from generations.selectors import generation_get_by_key
from generations.services.lifecycle import generation_reference

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(seconds=60)

# An idempotency key names one intent of one user: 1 to 64 URL- and log-safe characters.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class _CatalogMoved(Exception):
    """The model's catalog entry changed between the fast path's debit and its read
    (price changed, model disabled): the start is redone on the slow path."""


@dataclass(frozen=True)
class _StartRequest:
    user: User
    model_slug: str
    prompt: str
    params: dict[str, Any]
    idempotency_key: str | None


def generation_start(
    *,
    user: User,
    model_slug: str,
    prompt: str,
    params: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Generation:
    """Start a generation for `user` and hand it to the worker once committed.

    Raises (in this order): UserBanned (a ban set after the caller's own check),
    ValidationFailed / ModelUnavailable, DuplicateRequest (same key and payload: nothing
    is debited), IdempotencyKeyReused (same key, other payload), RateLimitExceeded,
    MaxActiveGenerations, InsufficientCredits. The prompt and the key's format are
    checked first, as they need no database.
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

    request = _StartRequest(
        user=user, model_slug=model_slug, prompt=prompt, params=params or {}, idempotency_key=idempotency_key or None
    )
    try:
        generation = _start(request, fast=True)
    except _CatalogMoved:
        generation = _start(request, fast=False)
    logger.info(
        "generation %s started: user %s, model %s, %s credits",
        generation.pk,
        user.pk,
        model_slug,
        generation.credits_charged,
    )
    return generation


def _start(request: _StartRequest, *, fast: bool) -> Generation:
    """One attempt in one transaction: the fast path (debit first) or the slow path (lock first)."""
    user_id = request.user.pk
    payload_hash: str | None = None
    try:
        with transaction.atomic():
            debit: Debit | None = None
            if fast:
                price = AIModel.objects.filter(slug=request.model_slug, is_active=True).order_by().values("price")
                debit = credits_debit_if_enough(user_id=user_id, amount=Subquery(price))
            locked: User | None = None
            if debit is None:
                # Nothing debited: no active model, credits short, or the catalog moved.
                # Lock, then check in order to give the right answer.
                locked = user_lock(user_id=user_id)
                # The locked row is the freshest word on a ban set after authentication.
                if locked.is_banned:
                    raise UserBanned()

            # Read after the lock is granted, in a statement of its own: under READ
            # COMMITTED it sees every start committed before the lock.
            now = timezone.now()
            found = _model_and_usage(
                model_slug=request.model_slug, user_id=user_id, now=now, idempotency_key=request.idempotency_key
            )
            if found is None:
                if debit is not None:
                    # Disabled since the debit read it; let the slow path say so in order.
                    raise _CatalogMoved()
                raise ModelUnavailable(details={"model": request.model_slug[:64]})
            model, usage = found
            if usage.user_banned:
                raise UserBanned()

            params = params_clean(schema=model.params_schema, params=request.params)
            payload_hash = payload_fingerprint(model_slug=model.slug, prompt=request.prompt, params=params)

            if usage.key_holder_id is not None:
                if usage.key_holder_hash != payload_hash:
                    raise IdempotencyKeyReused()
                holder = Generation.objects.select_related("model").filter(pk=usage.key_holder_id).first()
                if holder is not None:
                    raise DuplicateRequest(generation=holder)

            limit = settings.GENERATION_RATE_LIMIT_PER_MINUTE
            if usage.recent >= limit:
                frees_at = usage.oldest_recent + RATE_WINDOW if usage.oldest_recent else None
                retry_after = _seconds_until(frees_at, now=now)
                raise RateLimitExceeded(
                    details={"limit": limit, "retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
                )

            max_active = settings.GENERATION_MAX_ACTIVE
            if usage.active >= max_active:
                retry_after = settings.GENERATION_MAX_ACTIVE_RETRY_AFTER
                raise MaxActiveGenerations(
                    details={"limit": max_active, "active": usage.active}, headers={"Retry-After": str(retry_after)}
                )

            if locked is not None and locked.credits < model.price:
                raise InsufficientCredits(details={"balance": locked.credits, "price": model.price})
            if debit is not None and debit.amount != model.price:
                # Staff changed the price between the debit's snapshot and this read.
                # The rollback returns what was taken; the slow path charges the price
                # it reads under the lock, so the generation and its charge agree.
                raise _CatalogMoved()

            generation = Generation.objects.create(
                user=request.user,
                model=model,
                kind=model.kind,
                prompt=request.prompt,
                params=params,
                status=Generation.Status.PENDING,
                credits_charged=model.price,
                idempotency_key=request.idempotency_key,
                payload_hash=payload_hash,
                timeout_at=now + timedelta(seconds=settings.GENERATION_TIMEOUT_SECONDS),
            )
            reference = generation_reference(generation.pk)
            if debit is not None:
                credits_ledger_record(
                    user_id=user_id,
                    amount=-debit.amount,
                    kind=CreditKind.GENERATION_CHARGE,
                    balance_after=debit.balance_after,
                    reference=reference,
                    note=model.slug,
                )
            elif locked is not None:
                credits_apply(
                    user=locked,
                    amount=-model.price,
                    kind=CreditKind.GENERATION_CHARGE,
                    reference=reference,
                    note=model.slug,
                )
            else:
                # The slow path locks the row whenever the fast path debited nothing.
                raise RuntimeError("generation start: neither debited nor locked")
            # robust: the generation and its debit are committed whatever the queue does;
            # if the enqueue fails the sweeper re-enqueues pending generations, so the
            # client still gets its 201 instead of a 500 for work that was accepted.
            generation_id = generation.pk
            transaction.on_commit(lambda: async_task(GENERATION_RUN, generation_id), robust=True)
        return generation
    except IntegrityError:
        # Another writer took the key between our check and our insert (the
        # constraint waited for it to commit, so its generation is visible now).
        # The whole transaction rolled back: nothing was debited.
        if request.idempotency_key is None or payload_hash is None:
            raise
        holder = generation_get_by_key(user_id=user_id, idempotency_key=request.idempotency_key)
        if holder is None:
            raise
        if holder.payload_hash == payload_hash:
            raise DuplicateRequest(generation=holder) from None
        raise IdempotencyKeyReused() from None


@dataclass(frozen=True)
class _Usage:
    user_banned: bool
    active: int
    recent: int
    oldest_recent: datetime | None
    key_holder_id: int | None
    key_holder_hash: str | None


def _model_and_usage(
    *, model_slug: str, user_id: int, now: datetime, idempotency_key: str | None
) -> tuple[AIModel, _Usage] | None:
    """The active catalog entry and the user's usage, in one statement (None when the
    model is unknown or disabled).

    Each usage figure is a scalar subquery on an index of its own: the partial index of
    live generations for the active count, (user, created_at) for the rate window, the
    unique key constraint for the key's holder.
    """
    mine = Generation.objects.filter(user_id=user_id).order_by()
    active = mine.filter(status__in=Generation.ACTIVE_STATUSES)
    recent = mine.filter(created_at__gt=now - RATE_WINDOW)
    usage: dict[str, Any] = {
        "usage_user_banned": Subquery(User.objects.filter(pk=user_id).values("is_banned")[:1]),
        "usage_active": Coalesce(Subquery(_count(active)), 0),
        "usage_recent": Coalesce(Subquery(_count(recent)), 0),
        "usage_oldest_recent": Subquery(recent.order_by("created_at").values("created_at")[:1]),
    }
    if idempotency_key:
        holds_key = mine.filter(idempotency_key=idempotency_key, status__in=Generation.KEY_HOLDING_STATUSES)
        usage["usage_key_holder_id"] = Subquery(holds_key.values("pk")[:1])
        usage["usage_key_holder_hash"] = Subquery(holds_key.values("payload_hash")[:1])
    # The slug is unique: at most one row, so no ORDER BY or LIMIT.
    found = list(
        AIModel.objects.filter(slug=model_slug, is_active=True)
        .order_by()
        .only("id", "slug", "kind", "price", "params_schema")
        .annotate(**usage)
    )
    if not found:
        return None
    model = found[0]
    # The usage figures are annotations: attributes the ORM sets on this row only.
    return model, _Usage(
        user_banned=getattr(model, "usage_user_banned"),  # noqa: B009
        active=getattr(model, "usage_active"),  # noqa: B009
        recent=getattr(model, "usage_recent"),  # noqa: B009
        oldest_recent=getattr(model, "usage_oldest_recent"),  # noqa: B009
        key_holder_id=getattr(model, "usage_key_holder_id", None),
        key_holder_hash=getattr(model, "usage_key_holder_hash", None),
    )


def _count(generations: QuerySet[Generation]) -> QuerySet[Generation, dict[str, Any]]:
    """`generations` as a one-value subquery of their count (no row when there are none)."""
    return generations.values("user_id").annotate(count=Count("pk")).values("count")


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
