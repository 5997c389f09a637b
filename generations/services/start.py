"""Starting a generation: the one transaction the whole business rests on.

Under the user's row lock, in the contract's order: ban, validation (model, prompt,
params, input images), idempotency, rate limit, active limit, credits; then the
generation is inserted, its price debited through the ledger, and the worker is told
on commit. The lock serialises one user's starts, so the limits hold exactly however
many requests arrive at once; the partial unique constraint on (user, idempotency_key)
is the backstop that makes concurrent repeats of one key create exactly one generation
even for a writer that skips the lock.

The price follows the parameters (the model's price rule, `generations.rules`); it is
computed from the model row as read under the lock and becomes `credits_charged`, so a
later price change never touches a started generation.

Two paths, one function each:

- `_start_debit_first`, the common one. Budget: 8 SQL statements for the whole HTTP
  request, BEGIN and COMMIT included, for a start at the model's default price:
  1. authentication (the user by Telegram id);  2. BEGIN;
  3. the debit, which is also the lock: one conditional UPDATE that takes the model's
     default price (a subquery in the same statement) from the user's balance when it
     covers it (`credits_debit_if_enough`), locking the row as FOR NO KEY UPDATE would;
  4. one SELECT of the model row with the user's ban flag and usage (active count,
     starts in the rate window and the oldest of them, the holder of the idempotency
     key). A statement of its own, issued after the lock was granted: under READ
     COMMITTED it sees every start committed before, which is what makes the limits
     exact (a statement's snapshot is taken before it waits for a lock, so this read
     must not be folded into the debit). A refusal raises and the rollback returns
     the debit, so a DUPLICATE_REQUEST is never charged;
  5. the generation insert;  6. the ledger insert;  7. COMMIT;  8. the queue insert.
  A price other than the default (parameters, images) costs one more statement: the
  UPDATE that settles the debit to it (`credits_debit_settle`). Input images cost at
  most two more: the SELECT that locks the user's uploads (and proves they are
  theirs), and on their first use the UPDATE that marks them used (never swept).
  At most 11 in all.
- `_start_lock_first`, when the debit took nothing (unknown or disabled model, credits
  short of the default price): lock the row first (`user_lock`), then the same read
  and checks, to give the right refusal, or to start at a price the balance covers.

The debit, the model-and-usage read and the inserts are `core.statements`: their SQL is
built once per process (the ORM compiled them anew on every start, which cost more than
the database's work) and prepared on PostgreSQL; the generation is the instance the
insert wrote, which the API renders without reading it back. The worker is told with
`core.queue.task_enqueue_light`.
"""

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.errors import InsufficientCredits, UserBanned
from accounts.models import CreditKind, User
from accounts.services import (
    credits_apply,
    credits_debit_if_enough,
    credits_debit_settle,
    credits_ledger_record,
    user_lock,
)
from core.errors import DomainError
from core.queue import task_enqueue_light
from core.statements import ModelInsert, Statement
from core.task_names import GENERATION_RUN
from generations.errors import (
    DuplicateRequest,
    IdempotencyKeyReused,
    MaxActiveGenerations,
    ModelUnavailable,
    RateLimitExceeded,
)
from generations.models import AIModel, Generation, StoredFile
from generations.rules import model_price, model_timeout_seconds
from generations.selectors import generation_get_by_key
from generations.services.inputs import (
    IDEMPOTENCY_KEY_PATTERN,
    StartInputs,
    StartRequest,
    start_inputs_check,
    start_request_clean,
    uploads_for_start,
    uploads_mark_used,
)
from generations.services.lifecycle import generation_reference

logger = logging.getLogger(__name__)

__all__ = ["IDEMPOTENCY_KEY_PATTERN", "generation_start", "payload_fingerprint"]

RATE_WINDOW = timedelta(seconds=60)


class _TakeTheLockFirst(Exception):
    """The debit-first path cannot decide (nothing was debited, or the model was
    disabled since the debit read it): the start is redone on the lock-first path."""


@dataclass(frozen=True)
class _Plan:
    """A start that passed every check but credits: what to insert, and what it costs."""

    model: AIModel
    inputs: StartInputs
    price: int
    payload_hash: str
    timeout_at: datetime


def generation_start(
    *,
    user: User,
    model_slug: str,
    prompt: str,
    params: dict[str, Any] | None = None,
    images: Sequence[str] | None = None,
    idempotency_key: str | None = None,
) -> Generation:
    """Start a generation for `user` and hand it to the worker once committed.

    `images` are upload ids (`generations.services.uploads`), in the order the model
    should see them. Raises (in this order): UserBanned (a ban set after the caller's
    own check), ValidationFailed / ModelUnavailable, DuplicateRequest (same key and
    payload: nothing is debited), IdempotencyKeyReused (same key, other payload),
    RateLimitExceeded, MaxActiveGenerations, InsufficientCredits. The prompt's length,
    the key's format and the image ids' are checked first, as they need no database.
    """
    request = start_request_clean(
        model_slug=model_slug, prompt=prompt, params=params, images=images, idempotency_key=idempotency_key
    )
    try:
        generation = _start_debit_first(user, request)
    except _TakeTheLockFirst:
        generation = _start_lock_first(user, request)
    logger.info(
        "generation %s started: user %s, model %s, %s credits, %s input images",
        generation.pk, user.pk, model_slug, generation.credits_charged, len(request.images),
    )
    return generation


def _start_debit_first(user: User, request: StartRequest) -> Generation:
    plan: _Plan | None = None
    try:
        with transaction.atomic():
            # Fixed text from the model's meta, the slug a parameter (and the price field as
            # its output field: RawSQL would build a new Field on every start).
            default_price = RawSQL(  # noqa: S611
                _default_price_sql(), [request.model_slug], output_field=AIModel._meta.get_field("price")
            )
            debit = credits_debit_if_enough(user_id=user.pk, amount=default_price)
            if debit is None:
                raise _TakeTheLockFirst()  # no active model, or credits short of the default price
            plan = _plan(user, request)
            if plan is None:
                raise _TakeTheLockFirst()  # disabled since the debit read it: refuse in order
            settled = credits_debit_settle(user_id=user.pk, debit=debit, amount=plan.price)
            if settled is None:
                raise InsufficientCredits(details={"balance": debit.balance_after + debit.amount, "price": plan.price})
            generation = _generation_insert(user, request, plan)
            credits_ledger_record(
                user_id=user.pk,
                amount=-plan.price,
                kind=CreditKind.GENERATION_CHARGE,
                balance_after=settled.balance_after,
                reference=generation_reference(generation.pk),
                note=plan.model.slug,
            )
        return generation
    except IntegrityError:
        lost = _key_race_lost(user, request, plan)
        if lost is None:
            raise
        raise lost from None


def _start_lock_first(user: User, request: StartRequest) -> Generation:
    plan: _Plan | None = None
    try:
        with transaction.atomic():
            locked = user_lock(user_id=user.pk)
            # The locked row is the freshest word on a ban set after authentication.
            if locked.is_banned:
                raise UserBanned()
            plan = _plan(user, request)
            if plan is None:
                raise ModelUnavailable(details={"model": request.model_slug[:64]})
            if locked.credits < plan.price:
                raise InsufficientCredits(details={"balance": locked.credits, "price": plan.price})
            generation = _generation_insert(user, request, plan)
            credits_apply(
                user=locked,
                amount=-plan.price,
                kind=CreditKind.GENERATION_CHARGE,
                reference=generation_reference(generation.pk),
                note=plan.model.slug,
            )
        return generation
    except IntegrityError:
        lost = _key_race_lost(user, request, plan)
        if lost is None:
            raise
        raise lost from None


def _plan(user: User, request: StartRequest) -> _Plan | None:
    """Read the model and the user's usage (after the lock), then check everything but
    credits in the contract's order; None when the model is unknown or disabled."""
    now = timezone.now()
    found = _model_and_usage(
        model_slug=request.model_slug, user_id=user.pk, now=now, idempotency_key=request.idempotency_key
    )
    if found is None:
        return None
    model, usage = found
    if usage.user_banned:
        raise UserBanned()

    uploads = uploads_for_start(user_id=user.pk, image_ids=request.images, now=now, lock=True)
    inputs = start_inputs_check(model=model, request=request, uploads=uploads)
    payload_hash = payload_fingerprint(
        model_slug=model.slug,
        prompt=inputs.prompt,
        params=inputs.params,
        images=[upload.sha256 for upload in inputs.images],
    )

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

    uploads_mark_used(uploads=inputs.images, now=now)
    images = len(inputs.images)
    timeout = model_timeout_seconds(model=model, params=inputs.params, images=images)
    return _Plan(
        model=model,
        inputs=inputs,
        price=model_price(model=model, params=inputs.params, images=images),
        payload_hash=payload_hash,
        timeout_at=now + timedelta(seconds=timeout),
    )


def _generation_insert(user: User, request: StartRequest, plan: _Plan) -> Generation:
    generation = Generation(
        user=user,
        model=plan.model,
        kind=plan.model.kind,
        prompt=plan.inputs.prompt,
        params=plan.inputs.params,
        images=[
            {"upload": str(upload.pk), **StoredFile(name=upload.file.name, content_type=upload.content_type).as_json()}
            for upload in plan.inputs.images
        ],
        status=Generation.Status.PENDING,
        credits_charged=plan.price,
        idempotency_key=request.idempotency_key,
        payload_hash=plan.payload_hash,
        timeout_at=plan.timeout_at,
    )
    _GENERATION_ROW.save(generation)
    # robust: the generation and its debit are committed whatever the queue does; if
    # the enqueue fails the sweeper re-enqueues pending generations, so the client
    # still gets its 201 instead of a 500 for work that was accepted.
    generation_id = generation.pk
    transaction.on_commit(
        lambda: task_enqueue_light(GENERATION_RUN, generation_id, task_name=f"generation-{generation_id}"), robust=True
    )
    return generation


def _key_race_lost(user: User, request: StartRequest, plan: _Plan | None) -> DomainError | None:
    """After an IntegrityError: another writer took the key between our check and our
    insert (the constraint waited for it to commit, so its generation is visible now).
    The whole transaction rolled back, nothing was debited. None if that is not it."""
    if request.idempotency_key is None or plan is None:
        return None
    holder = generation_get_by_key(user_id=user.pk, idempotency_key=request.idempotency_key)
    if holder is None:
        return None
    if holder.payload_hash == plan.payload_hash:
        return DuplicateRequest(generation=holder)
    return IdempotencyKeyReused()


@dataclass(frozen=True)
class _Usage:
    user_banned: bool
    active: int
    recent: int
    oldest_recent: datetime | None
    key_holder_id: int | None
    key_holder_hash: str | None


# The catalog fields a start reads (`_model_and_usage`), in the statement's order.
_MODEL_FIELDS = (
    "id", "slug", "kind", "price", "params_schema", "images_min", "images_max",
    "prompt_optional_with_images", "price_rule", "timeout_rule",
)
_GENERATION_ROW = ModelInsert(Generation)


def _model_and_usage(
    *, model_slug: str, user_id: int, now: datetime, idempotency_key: str | None
) -> tuple[AIModel, _Usage] | None:
    """The active catalog entry and the user's usage, in one statement (None when the
    model is unknown or disabled); see `_model_and_usage_sql`."""
    since = connection.ops.adapt_datetimefield_value(now - RATE_WINDOW)
    rows = _MODEL_AND_USAGE.rows([user_id, user_id, user_id, since, user_id, since, user_id, idempotency_key,
                                  user_id, idempotency_key, model_slug])
    if not rows:
        return None
    row = rows[0]
    count = len(_MODEL_FIELDS)
    model = AIModel.from_db(connection.alias, list(_MODEL_FIELDS), row[:count])
    banned, active, recent, oldest_recent, key_holder_id, key_holder_hash = row[count:]
    return model, _Usage(
        user_banned=banned,
        active=active,
        recent=recent,
        oldest_recent=oldest_recent,
        key_holder_id=key_holder_id,
        key_holder_hash=key_holder_hash,
    )


def _model_and_usage_fields() -> list[Any]:
    """The statement's columns as fields, so that each value is loaded as the ORM would."""
    return [
        *(AIModel._meta.get_field(name) for name in _MODEL_FIELDS),
        models.BooleanField(), models.IntegerField(), models.IntegerField(), models.DateTimeField(),
        models.BigIntegerField(), models.CharField(),
    ]


def _model_and_usage_sql(db: BaseDatabaseWrapper) -> str:
    """The model's row and the user's usage as scalar subqueries, each on an index of
    its own: the partial index of live generations for the active count (its status
    list is literal SQL, so that the planner matches the index's predicate even in a
    prepared statement's generic plan), (user, created_at) for the rate window, the
    unique key constraint for the key's holder (a NULL key matches nothing). The slug
    is unique: at most one row, so no ORDER BY or LIMIT."""
    quote = db.ops.quote_name
    model_meta, generation_meta, user_meta = AIModel._meta, Generation._meta, User._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    def literals(values: Sequence[str]) -> str:
        if not all(value.isidentifier() for value in values):
            raise ValueError(f"not plain status names: {values}")
        return ", ".join(f"'{value}'" for value in values)

    generations = quote(generation_meta.db_table)
    user, created, key, status = (column(generation_meta, name)
                                  for name in ("user", "created_at", "idempotency_key", "status"))
    mine = f"FROM {generations} WHERE {user} = %s"
    model_columns = ", ".join(column(model_meta, name) for name in _MODEL_FIELDS)
    return (
        f"SELECT {model_columns}, "  # noqa: S608 - quoted names from the models' meta; values are parameters
        f"(SELECT {column(user_meta, 'is_banned')} FROM {quote(user_meta.db_table)} "
        f"WHERE {column(user_meta, 'id')} = %s), "
        f"(SELECT count(*) {mine} AND {status} IN ({literals(Generation.ACTIVE_STATUSES)})), "
        f"(SELECT count(*) {mine} AND {created} > %s), "
        f"(SELECT min({created}) {mine} AND {created} > %s), "
        f"(SELECT {column(generation_meta, 'id')} {mine} AND {key} = %s "
        f"AND {status} IN ({literals(Generation.KEY_HOLDING_STATUSES)})), "
        f"(SELECT {column(generation_meta, 'payload_hash')} {mine} AND {key} = %s "
        f"AND {status} IN ({literals(Generation.KEY_HOLDING_STATUSES)})) "
        f"FROM {quote(model_meta.db_table)} WHERE {column(model_meta, 'slug')} = %s "
        f"AND {column(model_meta, 'is_active')}"
    )


_MODEL_AND_USAGE = Statement(_model_and_usage_sql, _model_and_usage_fields)


@cache
def _default_price_sql() -> str:
    """The active model's catalog price by slug, the amount of the debit-first path."""
    quote = connection.ops.quote_name
    meta = AIModel._meta
    return (
        f"SELECT {quote(meta.get_field('price').column)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.get_field('slug').column)} = %s AND {quote(meta.get_field('is_active').column)}"
    )


def _seconds_until(moment: datetime | None, *, now: datetime) -> int:
    if moment is None:
        return 1
    return max(1, math.ceil((moment - now).total_seconds()))


def payload_fingerprint(
    *, model_slug: str, prompt: str, params: dict[str, Any], images: Sequence[str] = ()
) -> str:
    """What one intent asked for; a repeat of its idempotency key must match it.

    Taken after cleaning (stripped prompt, defaults filled in), so `{}` and the
    explicit defaults are the same intent; `images` are the SHA-256 of the input
    images' stored bytes, in order, so the same key with another photo is another
    intent. (A start without images hashes as it did before images existed.)
    """
    payload: dict[str, Any] = {"model": model_slug, "prompt": prompt, "params": params}
    if images:
        payload["images"] = list(images)
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
