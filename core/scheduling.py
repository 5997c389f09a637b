"""Django-Q2 schedules. Running a task again later, without a worker ever sleeping:
a ONCE schedule that is enqueued when it is due. And schedules that must exist exactly
once (a sweeper, a daily job), ensured from an app's post_migrate handler.

Due schedules are enqueued by `schedules_tick`, which every `manage.py qcluster` runs
next to its cluster every Q_SCHEDULER_TICK_SECONDS (core/management/commands/qcluster.py):
a step is late by about that much, not by the 30 seconds of Django-Q2's own scheduler
(which still runs in the cluster's guard loop as a fallback). Any number of clusters may
tick at once: each due schedule is enqueued once (see `schedules_run_due`).
"""

import logging
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django_q.models import Schedule

logger = logging.getLogger(__name__)


def task_schedule_once(
    *, func: str, due: datetime, name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> None:
    """Enqueue `func(*args, **kwargs)` when `due` comes (a task name of core.task_names)."""
    Schedule.objects.create(
        name=name[:100],
        func=func,
        # Django-Q2 takes a single value as the one argument; repr keeps it literal_eval-able.
        args=(repr(args[0]) if len(args) == 1 else repr(args)) if args else None,
        kwargs=repr(kwargs) if kwargs else None,
        schedule_type=Schedule.ONCE,
        repeats=-1,  # a ONCE schedule with negative repeats deletes itself after it ran
        next_run=due,
    )


def schedules_run_due(*, broker: Any = None) -> None:
    """Enqueue every schedule that is due (and set the next run of repeating ones).

    Django-Q2's `scheduler` selects the due schedules FOR UPDATE in one transaction and
    deletes a ONCE schedule (or moves a repeating one on) in it: a second process calling
    this at the same time waits for the first, then finds them gone or not due any more,
    so each due run is enqueued exactly once. On the ORM broker the enqueue is in that
    transaction too; on Redis it is not, so a failed commit may enqueue a run twice,
    which every task here tolerates. Errors are logged by `scheduler` itself."""
    from django_q.scheduler import scheduler

    scheduler(broker=broker)


def schedules_tick(*, every: float, running: Callable[[], bool], wait: Callable[[float], object]) -> None:
    """`schedules_run_due` every `every` seconds while `running()`; `wait(seconds)` pauses.
    A failing tick (the database is away) is logged and the next one tries again."""
    from django_q.brokers import get_broker

    broker = get_broker()
    while running():
        began = time.monotonic()
        try:
            schedules_run_due(broker=broker)
        except Exception:
            logger.exception("enqueuing due schedules failed; trying again in %s s", every)
            connections.close_all()
        wait(max(every - (time.monotonic() - began), 0.0))


def backoff_seconds(*, attempt: int, base: float, maximum: float) -> float:
    """base, 2 x base, 4 x base... after the 1st, 2nd, 3rd... attempt, at most `maximum`."""
    return min(base * 2.0 ** max(attempt - 1, 0), maximum)


def task_retry_schedule(
    *,
    func: str,
    kwargs: dict[str, Any],
    attempt: int,
    base: float,
    maximum: float,
    retry_after: float | None,
    name: str,
) -> datetime:
    """Try `func(**kwargs)` again after `attempt` failed: after what the other side asked
    for (Retry-After), else after the exponential backoff. Returns when it is due."""
    delay = retry_after if retry_after else backoff_seconds(attempt=attempt, base=base, maximum=maximum)
    due = timezone.now() + timedelta(seconds=max(delay, 0))
    task_schedule_once(func=func, due=due, name=name, kwargs=kwargs)
    return due


def schedule_table_exists(*, using: str = "default") -> bool:
    """False during `migrate <app>` on a database where django_q is not migrated yet."""
    return Schedule._meta.db_table in connections[using].introspection.table_names()


def schedule_ensure(*, name: str, func: str, using: str = "default", **wanted: Any) -> Schedule:
    """Exactly one schedule called `name` running `func` with the `wanted` fields
    (schedule_type, minutes, repeats...), however often and wherever this runs.

    Django-Q2 has no unique schedule name, so concurrent callers (two deploys
    migrating at once) are serialised with a transaction-scoped advisory lock on
    PostgreSQL (SQLite serialises writers anyway); duplicates are removed.
    """
    wanted = {"func": func, "repeats": -1, **wanted}
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
        schedules = list(Schedule.objects.using(using).filter(name=name).order_by("pk"))
        if not schedules:
            return Schedule.objects.using(using).create(name=name, next_run=timezone.now(), **wanted)
        schedule, *duplicates = schedules
        for duplicate in duplicates:
            duplicate.delete()
        changed = [field for field, value in wanted.items() if getattr(schedule, field) != value]
        if changed:
            for field in changed:
                setattr(schedule, field, wanted[field])
            schedule.save(update_fields=changed)
        return schedule
