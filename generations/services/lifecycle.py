"""State changes of a generation after it started.

Each change is a conditional UPDATE from the states it may leave: it acts only
when exactly one row changed, so two workers, a worker and a cancel, or a late
provider result and the sweeper can race freely and only one of them wins. A
generation that ends failed or cancelled is refunded in the same transaction as
its status change; the ledger's unique (kind, reference) is the backstop.
"""

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.tasks import async_task

from accounts.models import CreditKind, User
from accounts.services import credits_apply, user_lock
from core.statements import Statement, model_column, model_columns, model_fields, models_from_row
from core.task_names import GENERATION_NOTIFY
from generations.hooks import GENERATION_CLAIMED, hook_emit_on_commit
from generations.models import AIModel, Generation, StoredFile

logger = logging.getLogger(__name__)

Status = Generation.Status

# Django-Q's guard kills a worker that overran its task's timeout within ~3 seconds.
LEASE_MARGIN_SECONDS = 5
# A worker step that ended a generation tells the user itself, in the same task, when
# at least this share of the task's timeout (Q_TIMEOUT) is left (`generation_notify_now`).
NOTIFY_NOW_MIN_TIME_LEFT_SHARE = 0.5


def generation_claim(*, generation_id: int) -> Generation | None:
    """pending -> processing for the one worker that wins; None for everyone else.

    The winner holds the generation's lease (`next_check_at`) for one task timeout:
    until then a duplicate delivery leaves it alone; after it, the worker is known
    to be gone and another may take over (`generation_lease_take`).
    """
    now = timezone.now()
    using = router.db_for_write(Generation)
    if connections[using].vendor == "postgresql":
        # One statement (prepared): the claim returns the generation with its model and user.
        rows = _CLAIM.rows([Status.PROCESSING, now, now + worker_lease(), generation_id, Status.PENDING], using=using)
        generation = _generation_with_model_and_user(rows[0], using=using) if rows else None
    else:
        # SQLite's RETURNING cannot name the joined tables: claim, then read.
        claimed = Generation.objects.filter(pk=generation_id, status=Status.PENDING).update(
            status=Status.PROCESSING, started_at=now, attempts=F("attempts") + 1, next_check_at=now + worker_lease()
        )
        generation = Generation.objects.select_related("model", "user").get(pk=generation_id) if claimed else None
    if generation is None:
        return None
    # The bot edits the status message of a generation started in the chat (its
    # listener queues that only for those: most generations have none).
    hook_emit_on_commit(GENERATION_CLAIMED, generation_id=generation_id)
    return generation


def _claim_sql(db: BaseDatabaseWrapper) -> str:
    """pending -> processing as `generation_claim` does it, RETURNING the row with its
    model's and user's (UPDATE ... FROM: the joined rows are read, not locked). Under
    READ COMMITTED a concurrent claim waits for the row, then finds it processing."""
    quote = db.ops.quote_name
    meta = Generation._meta
    generation, model, user = (quote(m.db_table) for m in (meta, AIModel._meta, User._meta))

    def name(field: str) -> str:
        return model_column(db, Generation, field)

    return (
        f"UPDATE {generation} SET {name('status')} = %s, {name('started_at')} = %s, "  # noqa: S608 - quoted names
        f"{name('attempts')} = {generation}.{name('attempts')} + 1, {name('next_check_at')} = %s "
        f"FROM {model}, {user} "
        f"WHERE {generation}.{name('id')} = %s AND {generation}.{name('status')} = %s "
        f"AND {model}.{quote(AIModel._meta.pk.column)} = {generation}.{name('model')} "
        f"AND {user}.{quote(User._meta.pk.column)} = {generation}.{name('user')} "
        f"RETURNING {model_columns(db, Generation, meta.db_table)}, "
        f"{model_columns(db, AIModel, AIModel._meta.db_table)}, {model_columns(db, User, User._meta.db_table)}"
    )


_CLAIM = Statement(_claim_sql, lambda: model_fields(Generation, AIModel, User))


def _generation_with_model_and_user(row: Sequence[Any], *, using: str) -> Generation:
    """The Generation of a row of `Generation, AIModel, User` columns, its model and user
    set as select_related would set them."""
    instances = models_from_row(row, Generation, AIModel, User, using=using)
    # An inner join: none of the three is missing.
    generation, model, user = cast(tuple[Generation, AIModel, User], tuple(instances))
    generation.model = model
    generation.user = user
    return generation


def generation_lease_take(*, generation_id: int, seen_next_check_at: datetime | None) -> Generation | None:
    """Take the next step of a processing generation whose `next_check_at` was seen as
    `seen_next_check_at` (and is due); None when another worker took it first.

    The value works as a fencing token: every step sets a new one, so of two
    deliveries of the same step only one changes the row. A step that will call the
    provider to create the result again counts as one more attempt (not a poll of a
    job, nor the lookup of a create whose answer was lost).
    """
    current = (
        Q(next_check_at__isnull=True) if seen_next_check_at is None else Q(next_check_at=seen_next_check_at)
    )
    taken = Generation.objects.filter(current, pk=generation_id, status=Status.PROCESSING).update(
        next_check_at=timezone.now() + worker_lease(),
        attempts=Case(
            When(provider_job_id="", unconfirmed_request_id="", then=F("attempts") + 1),
            default=F("attempts"),
            output_field=Generation._meta.get_field("attempts"),
        ),
    )
    if not taken:
        return None
    return Generation.objects.select_related("model", "user").get(pk=generation_id)


def generation_step_handoff(
    *,
    generation_id: int,
    lease: datetime,
    next_check_at: datetime,
    provider_job_id: str = "",
    unconfirmed_request_id: str = "",
    unconfirmed_clear: bool = False,
    provider_cost_usd: Decimal | None = None,
) -> bool:
    """The step holding `lease` hands the generation on to a step due at `next_check_at`
    (and records the provider's job id, a create whose answer was lost, or the cost the
    provider reported); False when the generation ended or another worker took it over
    meanwhile, in which case the caller schedules nothing.

    A job id confirms a lost create; `unconfirmed_clear` forgets one that the provider
    says failed (the next step may create again)."""
    changes: dict[str, Any] = {"next_check_at": next_check_at}
    if provider_job_id:
        changes["provider_job_id"] = provider_job_id
    if unconfirmed_request_id:
        changes.update(unconfirmed_request_id=unconfirmed_request_id, unconfirmed_since=timezone.now())
    elif provider_job_id or unconfirmed_clear:
        changes.update(unconfirmed_request_id="", unconfirmed_since=None)
    if provider_cost_usd is not None:
        changes["provider_cost_usd"] = provider_cost_usd
    return bool(
        Generation.objects.filter(pk=generation_id, status=Status.PROCESSING, next_check_at=lease).update(**changes)
    )


def worker_lease() -> timedelta:
    """How long one step may hold a generation: Django-Q stops a task after its
    timeout (and kills the worker process a few seconds later if it must)."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + LEASE_MARGIN_SECONDS)


def generation_complete(
    *,
    generation_id: int,
    results: Sequence[StoredFile] = (),
    result_file: str = "",
    content_type: str = "",
    provider_cost_usd: Decimal | None = None,
    notify_on_commit: bool = True,
) -> bool:
    """processing -> completed with the stored results (in order; `result_file` and
    `content_type` say the same of a single one); False when it already ended.

    The bot's notification is handed to a task on commit; `notify_on_commit=False`
    when the caller delivers it itself (`generation_notify_now`)."""
    if not results:
        results = [StoredFile(name=result_file, content_type=content_type)]
    changes: dict[str, Any] = {
        "status": Status.COMPLETED,
        "result_file": results[0].name,
        "result_content_type": results[0].content_type,
        "results": [result.as_json() for result in results],
        "finished_at": timezone.now(),
    }
    if provider_cost_usd is not None:
        changes["provider_cost_usd"] = provider_cost_usd
    # One statement, no transaction of its own (BEGIN and COMMIT would be two round trips
    # more): outside a transaction the notification is enqueued once the UPDATE has
    # committed, inside one on its commit (`transaction.on_commit`).
    done = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(**changes)
    if done and notify_on_commit:
        _notify_on_commit(generation_id)
    return bool(done)


def generation_fail(
    *, generation_id: int, error_code: str, error_message: str, provider_cost_usd: Decimal | None = None,
    notify_on_commit: bool = True,
) -> bool:
    """pending|processing -> failed, refunded once; False when it already ended.
    `provider_cost_usd`: what the provider billed all the same (a flagged image);
    `notify_on_commit` as in `generation_complete`."""
    return _end_with_refund(
        generation_id=generation_id, status=Status.FAILED, error_code=error_code, error_message=error_message,
        provider_cost_usd=provider_cost_usd, notify_on_commit=notify_on_commit,
    )


def generation_cancel_if_active(*, generation_id: int) -> bool:
    """pending|processing -> cancelled, refunded once; False when it already ended."""
    return _end_with_refund(generation_id=generation_id, status=Status.CANCELLED, error_code="", error_message="")


def _end_with_refund(
    *, generation_id: int, status: Generation.Status, error_code: str, error_message: str,
    provider_cost_usd: Decimal | None = None, notify_on_commit: bool = True,
) -> bool:
    changes: dict[str, Any] = {
        "status": status,
        "refunded": True,
        "error_code": error_code,
        "error_message": error_message[:500],
        "finished_at": timezone.now(),
    }
    if provider_cost_usd is not None:
        changes["provider_cost_usd"] = provider_cost_usd
    with transaction.atomic():
        ended = Generation.objects.filter(pk=generation_id, status__in=Generation.ACTIVE_STATUSES).update(**changes)
        if not ended:
            return False
        generation = Generation.objects.only("id", "user_id", "credits_charged").get(pk=generation_id)
        credits_apply(
            user=user_lock(user_id=generation.user_id),
            amount=generation.credits_charged,
            kind=CreditKind.GENERATION_REFUND,
            reference=generation_reference(generation.pk),
        )
        if notify_on_commit:
            _notify_on_commit(generation_id)
    logger.info("generation %s %s and refunded %s credits", generation_id, status, generation.credits_charged)
    return True


def generation_reference(generation_id: int) -> str:
    """The ledger reference of everything a generation did to credits."""
    return f"generation:{generation_id}"


def generation_notify_now(*, generation_id: int, task_started: float) -> None:
    """Tell the user about the generation that the running worker step just ended (and
    committed), in this task: the bot's notification task called in this process, by its
    name (the bot is a higher layer). No round trip through the queue, no task more per
    generation: the result is in the chat a moment after it is stored.

    `task_started` (time.monotonic()) says how long the task has run: with less than
    NOTIFY_NOW_MIN_TIME_LEFT_SHARE of Q_TIMEOUT left (a slow provider), the notification
    goes to a task of its own with the whole timeout, as it does when it fails here in a
    way that is not its own to record (its Telegram errors it records and retries itself;
    a duplicate delivery of it finds nothing to do)."""
    elapsed = time.monotonic() - task_started
    if elapsed <= settings.Q_CLUSTER["timeout"] * (1 - NOTIFY_NOW_MIN_TIME_LEFT_SHARE):
        try:
            import_string(GENERATION_NOTIFY)(generation_id)
            return
        except Exception:
            logger.exception("generation %s: the notification failed in the worker step; handing it to a task",
                             generation_id)
    _notify_enqueue(generation_id)


def _notify_enqueue(generation_id: int) -> None:
    async_task(GENERATION_NOTIFY, generation_id, task_name=f"notify-{generation_id}")


def _notify_on_commit(generation_id: int) -> None:
    transaction.on_commit(lambda: _notify_enqueue(generation_id))
