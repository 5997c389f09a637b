"""Chaos: the worker is SIGKILLed twice while it runs generations. Every generation
still ends (the ORM broker redelivers, the sweeper takes over expired leases), each
is charged once and refunded only if it failed, and no credit is created or lost."""

import json
import signal
import time

import pytest
from django.db import connection

from generations.models import Generation
from generations.services import generation_start
from tests.chaos.helpers import (
    Sweeper,
    assert_every_generation_ended,
    assert_money_conserved,
    qcluster,
    wait_until_all_ended,
)
from tests.ops.processes import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

GENERATIONS = 16


def processing_count() -> int:
    connection.close()
    return Generation.objects.filter(status=Generation.Status.PROCESSING).count()


def test_sigkill_of_the_worker_during_generations(cast, demo_model, sweeper_settings, processes, tmp_path):
    sweeper_settings.GENERATION_MAX_ACTIVE = GENERATIONS
    generations = [
        generation_start(user=cast[i % len(cast)], model_slug=demo_model.slug, prompt=f"chaos picture {i}")
        for i in range(GENERATIONS)
    ]  # each enqueued on commit, on the ORM broker
    log = tmp_path / "qcluster.log"
    # Each demo picture takes half a second: the kills land in the middle of work.
    for _kill in range(2):
        worker = qcluster(log, DEMO_PROVIDER_DELAY_SECONDS="0.5").start()
        processes.append(worker)
        wait_for(lambda: processing_count() >= 2, seconds=30, what="generations in progress")
        time.sleep(0.3)
        worker.stop(signal.SIGKILL)
        assert processing_count() >= 1, "the kill should catch generations in progress"
    processes.append(qcluster(log, DEMO_PROVIDER_DELAY_SECONDS="0.5").start())

    with Sweeper(every=1.0):
        wait_until_all_ended(seconds=60)

    assert_every_generation_ended()
    assert_money_conserved()
    ended = {g.pk: g for g in Generation.objects.filter(pk__in=[g.pk for g in generations])}
    taken_over = [g for g in ended.values() if g.attempts > 1]
    assert taken_over, "no generation was taken over after a kill"
    for generation in ended.values():
        assert generation.status in (Generation.Status.COMPLETED, Generation.Status.FAILED), generation
        if generation.status == Generation.Status.COMPLETED:
            assert generation.result_file and not generation.refunded
    # The worker's JSON lines about a generation carry its id.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    completed = [line for line in lines if line.get("logger") == "generations.services.worker"
                 and "completed" in line.get("message", "")]
    assert completed and all(f"generation {line['generation_id']} " in line["message"] for line in completed)
