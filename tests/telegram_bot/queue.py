"""The Django-Q2 ORM queue and schedules as a test sees them: what was enqueued,
and running it the way a worker would, without a cluster."""

import ast
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import OrmQ, Schedule


def queued(func: str) -> list[dict[str, Any]]:
    """The tasks of `func` waiting in the queue, oldest first (each {"args", "kwargs", ...})."""
    tasks = [row.task for row in OrmQ.objects.order_by("id")]
    return [task for task in tasks if task.get("func") == func]


def queued_run(func: str) -> list[Any]:
    """Run (and take off the queue) every queued task of `func`; their results."""
    results = []
    for row in OrmQ.objects.order_by("id"):
        task = row.task
        if task.get("func") != func:
            continue
        row.delete()
        results.append(import_string(func)(*task.get("args", ()), **task.get("kwargs", {})))
    return results


def scheduled(func: str) -> list[Schedule]:
    return list(Schedule.objects.filter(func=func).order_by("next_run", "pk"))


def scheduled_run(func: str) -> list[Any]:
    """Run the ONCE schedules of `func` that are due, as Django-Q2's scheduler
    would (it deletes them); their results."""
    results = []
    for schedule in scheduled(func):
        if schedule.next_run > timezone.now():
            continue
        schedule.delete()
        args = ast.literal_eval(schedule.args) if schedule.args else ()
        args = args if isinstance(args, tuple) else (args,)
        kwargs = ast.literal_eval(schedule.kwargs) if schedule.kwargs else {}
        results.append(import_string(func)(*args, **kwargs))
    return results


def clock_forward(seconds: float) -> None:
    """As if `seconds` passed: everything due later (schedules, notification
    retries) comes that much closer."""
    from telegram_bot.models import GenerationNotification, StatusMessage

    shift = timedelta(seconds=seconds)
    Schedule.objects.filter(next_run__isnull=False).update(next_run=F("next_run") - shift)
    GenerationNotification.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=F("next_attempt_at") - shift
    )
    StatusMessage.objects.filter(editing_until__isnull=False).update(editing_until=F("editing_until") - shift)
