"""Django-Q2 schedules. Running a task again later, without a worker ever sleeping:
a ONCE schedule that the cluster's scheduler enqueues when it is due (it looks about
every 30 seconds, so short delays round up to that). And schedules that must exist
exactly once (a sweeper, a daily job), ensured from an app's post_migrate handler."""

import zlib
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django_q.models import Schedule


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
