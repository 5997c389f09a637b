"""The sweeper: a Django-Q2 schedule that runs every minute and makes sure every
generation ends, whatever happened to its tasks.

- Generations past `timeout_at` fail with TIMEOUT and are refunded. The state
  change is a conditional UPDATE, so sweepers running side by side (several
  clusters, a slow run overlapping the next) refund each exactly once.
- Pending generations no worker claimed for a while (a task lost by Redis, a
  start whose enqueue never happened) are enqueued again; claims make the
  duplicates harmless.
- Processing generations whose next step is overdue (a killed worker, a lost
  schedule) are handed to a worker again; leases make the duplicates harmless.
- Django-Q2 task results older than Q_RESULTS_KEEP_DAYS are deleted.
- Uploads that no generation used within UPLOAD_KEEP_HOURS are deleted, rows and files.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from accounts.models import User
from core.scheduling import schedule_ensure
from core.task_names import GENERATION_ATTEMPT, GENERATION_RUN, GENERATION_SWEEP
from generations.failures import FailureCode, failure_message
from generations.models import Generation
from generations.services.lifecycle import generation_fail
from generations.services.uploads import uploads_unused_delete

logger = logging.getLogger(__name__)

SWEEP_SCHEDULE_NAME = "generations: sweep"
BATCH = 500
RESULTS_DELETE_BATCH = 5000


@dataclass(frozen=True)
class SweepReport:
    timed_out: int
    requeued: int
    resumed: int
    results_deleted: int
    uploads_deleted: int


def generations_sweep(*, now: datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    # Stay well inside the task timeout; what is left waits for the next minute.
    deadline = time.monotonic() + settings.Q_CLUSTER["timeout"] / 2
    report = SweepReport(
        timed_out=_fail_timed_out(now=now, deadline=deadline),
        requeued=_requeue_pending(now=now),
        resumed=_resume_stalled(now=now),
        results_deleted=_delete_old_task_results(now=now, deadline=deadline),
        uploads_deleted=uploads_unused_delete(now=now, deadline=deadline),
    )
    if any(asdict(report).values()):
        logger.info("sweep: %s", report)
    return report


def _fail_timed_out(*, now: datetime, deadline: float) -> int:
    failed = 0
    for generation_id, language_code in _timed_out(now=now, deadline=deadline):
        try:
            if generation_fail(
                generation_id=generation_id,
                error_code=FailureCode.TIMEOUT,
                error_message=failure_message(FailureCode.TIMEOUT, language_code=language_code),
            ):
                failed += 1
        except Exception:  # one broken row must not stop the sweep of the others
            logger.exception("sweep: could not time out generation %s", generation_id)
    return failed


def _timed_out(*, now: datetime, deadline: float) -> Iterator[tuple[int, str]]:
    """(id, user language) of live generations past their timeout, in batches; each
    batch is read after the previous one ended, so ended rows drop out."""
    seen: set[int] = set()
    while time.monotonic() < deadline:
        batch = list(
            Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES, timeout_at__lte=now)
            .exclude(pk__in=seen)
            .order_by("timeout_at")
            .values_list("pk", "user_id")[:BATCH]
        )
        if not batch:
            return
        # The users' languages by primary key, apart: joined into the batch's query, the
        # planner may hash the whole user table for a handful of rows.
        languages = dict(
            User.objects.filter(pk__in={user_id for _, user_id in batch}).values_list("pk", "language_code")
        )
        for generation_id, user_id in batch:
            seen.add(generation_id)
            yield generation_id, languages.get(user_id, "")


def _requeue_pending(*, now: datetime) -> int:
    interval = timedelta(seconds=settings.GENERATION_PENDING_REQUEUE_SECONDS)
    candidates = (
        Generation.objects.filter(status=Generation.Status.PENDING, created_at__lte=now - interval, timeout_at__gt=now)
        .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
        .order_by("created_at")
        .values_list("pk", "next_check_at")[:BATCH]
    )
    requeued = 0
    for generation_id, seen in candidates:
        # Mark before enqueueing, conditionally: of two sweepers one enqueues, and a
        # generation waiting in a long queue is enqueued once per interval, not every minute.
        current = Q(next_check_at__isnull=True) if seen is None else Q(next_check_at=seen)
        marked = Generation.objects.filter(current, pk=generation_id, status=Generation.Status.PENDING).update(
            next_check_at=now + interval
        )
        if marked:
            async_task(GENERATION_RUN, generation_id, task_name=f"generation-{generation_id}-requeue")
            requeued += 1
    return requeued


def _resume_stalled(*, now: datetime) -> int:
    stalled = (
        Generation.objects.filter(
            status=Generation.Status.PROCESSING,
            next_check_at__lte=now - timedelta(seconds=settings.GENERATION_STALLED_AFTER_SECONDS),
            timeout_at__gt=now,
        )
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    resumed = 0
    for generation_id in stalled:
        async_task(GENERATION_ATTEMPT, generation_id, task_name=f"generation-{generation_id}-resume")
        resumed += 1
    return resumed


def _delete_old_task_results(*, now: datetime, deadline: float) -> int:
    cutoff = now - timedelta(days=settings.Q_RESULTS_KEEP_DAYS)
    deleted = 0
    while time.monotonic() < deadline:
        ids = list(Task.objects.filter(stopped__lt=cutoff).values_list("pk", flat=True)[:RESULTS_DELETE_BATCH])
        if not ids:
            break
        deleted += Task.objects.filter(pk__in=ids).delete()[0]
    return deleted


def sweep_schedule_ensure(*, using: str = "default") -> Schedule:
    """Exactly one sweeper schedule, every minute, however often and wherever this runs."""
    return schedule_ensure(name=SWEEP_SCHEDULE_NAME, func=GENERATION_SWEEP, using=using,
                           schedule_type=Schedule.MINUTES, minutes=1)
