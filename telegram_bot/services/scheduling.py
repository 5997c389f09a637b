"""Running a task again later, without a worker ever sleeping: a Django-Q2 ONCE
schedule that the cluster's scheduler enqueues when it is due (it looks about
every 30 seconds, so short delays round up to that)."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django_q.models import Schedule


def task_schedule_once(*, func: str, kwargs: dict[str, Any], delay_seconds: float, name: str) -> datetime:
    """Enqueue `func(**kwargs)` after `delay_seconds`; returns when it is due."""
    due = timezone.now() + timedelta(seconds=max(delay_seconds, 0))
    Schedule.objects.create(
        name=name[:100],
        func=func,
        kwargs=repr(kwargs),
        schedule_type=Schedule.ONCE,
        repeats=-1,  # a ONCE schedule with negative repeats deletes itself after it ran
        next_run=due,
    )
    return due


def backoff_seconds(*, attempt: int, base: float, maximum: float) -> float:
    """base, 2 x base, 4 x base... after the 1st, 2nd, 3rd... attempt, at most `maximum`."""
    return min(base * 2.0 ** max(attempt - 1, 0), maximum)
