"""State changes of a generation after it started.

Each change is a conditional UPDATE from the states it may leave: it acts only
when exactly one row changed, so two workers, a worker and a cancel, or a late
provider result and the sweeper can race freely and only one of them wins. A
generation that ends failed or cancelled is refunded in the same transaction as
its status change; the ledger's unique (kind, reference) is the backstop.
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import CreditKind
from accounts.services import credits_apply, user_lock
from generations.models import Generation

logger = logging.getLogger(__name__)

Status = Generation.Status

# The bot tells the user about a finished generation. Named, not imported:
# generations must not depend on telegram_bot.
NOTIFY_TASK = "telegram_bot.tasks.generation_notify"


def generation_claim(*, generation_id: int) -> Generation | None:
    """pending -> processing for the one worker that wins; None for everyone else."""
    claimed = Generation.objects.filter(pk=generation_id, status=Status.PENDING).update(
        status=Status.PROCESSING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Generation.objects.select_related("model").get(pk=generation_id)


def generation_complete(*, generation_id: int, result_file: str, content_type: str) -> bool:
    """processing -> completed with the stored result; False when it already ended."""
    with transaction.atomic():
        done = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
            status=Status.COMPLETED,
            result_file=result_file,
            result_content_type=content_type,
            finished_at=timezone.now(),
        )
        if done:
            _notify_on_commit(generation_id)
    return bool(done)


def generation_fail(*, generation_id: int, error_code: str, error_message: str) -> bool:
    """pending|processing -> failed, refunded once; False when it already ended."""
    return _end_with_refund(
        generation_id=generation_id, status=Status.FAILED, error_code=error_code, error_message=error_message
    )


def generation_cancel_if_active(*, generation_id: int) -> bool:
    """pending|processing -> cancelled, refunded once; False when it already ended."""
    return _end_with_refund(generation_id=generation_id, status=Status.CANCELLED, error_code="", error_message="")


def _end_with_refund(*, generation_id: int, status: str, error_code: str, error_message: str) -> bool:
    with transaction.atomic():
        ended = Generation.objects.filter(pk=generation_id, status__in=Generation.ACTIVE_STATUSES).update(
            status=status,
            refunded=True,
            error_code=error_code,
            error_message=error_message[:500],
            finished_at=timezone.now(),
        )
        if not ended:
            return False
        generation = Generation.objects.only("id", "user_id", "credits_charged").get(pk=generation_id)
        credits_apply(
            user=user_lock(user_id=generation.user_id),
            amount=generation.credits_charged,
            kind=CreditKind.GENERATION_REFUND,
            reference=generation_reference(generation.pk),
        )
        _notify_on_commit(generation_id)
    logger.info("generation %s %s and refunded %s credits", generation_id, status, generation.credits_charged)
    return True


def generation_reference(generation_id: int) -> str:
    """The ledger reference of everything a generation did to credits."""
    return f"generation:{generation_id}"


def _notify_on_commit(generation_id: int) -> None:
    transaction.on_commit(lambda: async_task(NOTIFY_TASK, generation_id, task_name=f"notify-{generation_id}"))
