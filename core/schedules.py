"""Django-Q2 schedules that must exist exactly once (a sweeper, a daily job),
ensured after every `migrate` from an app's post_migrate handler."""

import zlib
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django_q.models import Schedule


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
