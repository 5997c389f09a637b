"""Running generation steps in a test the way Django-Q2 would, without a cluster."""

import ast

from django.utils import timezone
from django_q.models import Schedule

from core.task_names import GENERATION_ATTEMPT
from generations.tasks import generation_attempt


def scheduled_steps_run(*, limit: int = 20) -> list[str]:
    """Run the due step schedules one by one, as the scheduler would enqueue them
    (a ONCE schedule is deleted when it fires); return the steps' outcomes."""
    outcomes = []
    for _ in range(limit):
        due = (
            Schedule.objects.filter(func=GENERATION_ATTEMPT, next_run__lte=timezone.now())
            .order_by("next_run", "pk")
            .first()
        )
        if due is None:
            break
        due.delete()
        outcomes.append(generation_attempt(ast.literal_eval(due.args)))
    return outcomes
