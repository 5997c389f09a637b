"""Chaos: the provider answers HTTP 500 for a while, under concurrent workers.

Generations retry with backoff (as Django-Q2 schedules); those that run out of
attempts fail and are refunded, the others complete once the provider is back.
Every generation ends, and no credit is created or lost."""

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from core.task_names import GENERATION_ATTEMPT
from generations.models import Generation
from generations.tasks import generation_attempt, generation_run
from tests.chaos.helpers import assert_every_generation_ended, assert_money_conserved
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import IMAGES, Reply, error_body

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

GENERATIONS = 12
OUTAGE_ANSWERS = 30
WORKERS = 4


def run_workers(first_steps: list[int], *, seconds: float) -> list[BaseException]:
    """WORKERS threads, like Django-Q2 workers: the first steps, then whatever step
    schedules fall due (each taken by one worker: the schedule row is deleted first)."""
    pending = list(first_steps)
    lock = threading.Lock()
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def work() -> None:
        try:
            while time.monotonic() < deadline:
                with lock:
                    generation_id = pending.pop() if pending else None
                if generation_id is not None:
                    generation_run(generation_id)
                    continue
                due = (Schedule.objects.filter(func=GENERATION_ATTEMPT, next_run__lte=timezone.now())
                       .order_by("pk").first())
                if due is not None:
                    if Schedule.objects.filter(pk=due.pk).delete()[0]:
                        generation_attempt(int(due.args))
                    continue
                if not Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES).exists():
                    return
                time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    return errors


def test_provider_returns_500_for_a_while(owner, stranger, fake_aimlapi, settings):
    settings.GENERATION_PROVIDER_MAX_ATTEMPTS = 4
    model = AIModelFactory.create(price=5)
    generations = [GenerationFactory.create(user=(owner, stranger)[i % 2], model=model, prompt=f"outage {i}")
                   for i in range(GENERATIONS)]
    fake_aimlapi.script("POST", IMAGES, *[Reply(500, json=error_body(500, "upstream down"))] * OUTAGE_ANSWERS)
    for i in range(GENERATIONS):
        fake_aimlapi.image_succeeds(name=f"after-outage-{i}.png")

    errors = run_workers([g.pk for g in generations], seconds=60)

    assert not errors, errors
    assert_every_generation_ended()
    assert_money_conserved()
    ended = list(Generation.objects.filter(pk__in=[g.pk for g in generations]))
    completed = [g for g in ended if g.status == Generation.Status.COMPLETED]
    failed = [g for g in ended if g.status == Generation.Status.FAILED]
    assert len(completed) + len(failed) == GENERATIONS
    # Each call the provider answered used one scripted answer: the 500s, then one success per completion.
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == OUTAGE_ANSWERS + len(completed)
    assert completed, "nothing completed after the outage"
    assert any(g.attempts > 1 for g in completed), "no completed generation needed a retry"
    for generation in failed:
        assert (generation.error_code, generation.attempts, generation.refunded) == ("PROVIDER_UNAVAILABLE", 4, True)
    for generation in completed:
        assert generation.result_file and not generation.refunded
