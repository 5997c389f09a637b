"""Scale-out: two worker clusters (as on two machines) share one Redis queue and one
database. Every task is delivered twice on purpose; each generation is still
claimed, charged, completed and stored exactly once.

The clusters keep no results of successful tasks (`Q_SAVE_LIMIT` -1), so the test
reads what each delivery did from the clusters' logs: the monitor logs every task it
acknowledges ("Processed" or "Failed"), the step that completes a generation logs it."""

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.core.files.storage import default_storage
from django.db import connection
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.tasks import async_task

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation
from generations.services.lifecycle import generation_reference
from tests.chaos.helpers import assert_money_conserved, qcluster
from tests.factories import GenerationFactory
from tests.ops.processes import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A Redis database of its own, emptied before and after: the test never touches other data.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
RUN_TASK = "generations.tasks.generation_run"
GENERATIONS = 24


@pytest.fixture
def test_redis(monkeypatch):
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL); .ci/run starts one")
    client.flushdb()
    # This process enqueues onto the clusters' Redis queue like a web process with REDIS_URL set.
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    yield client
    client.flushdb()
    client.close()


def test_two_clusters_on_redis_process_each_generation_once(owner, stranger, demo_model, test_redis, processes,
                                                            tmp_path, audit_passes):
    logs = [tmp_path / "cluster-a.log", tmp_path / "cluster-b.log"]
    for log in logs:
        processes.append(qcluster(log, REDIS_URL=REDIS_URL, DEMO_PROVIDER_DELAY_SECONDS="0").start())
    for log in logs:
        def running(log: Path = log) -> bool:
            return log.exists() and "running" in log.read_text()

        wait_for(running, seconds=30, what=f"{log.name} to run")

    generations = [GenerationFactory.create(user=(owner, stranger)[i % 2], model=demo_model, prompt=f"scale-out {i}")
                   for i in range(GENERATIONS)]
    broker = RedisBroker()
    for generation in generations:  # every task twice: a duplicate delivery must change nothing
        async_task(RUN_TASK, generation.pk, broker=broker)
        async_task(RUN_TASK, generation.pk, broker=broker)

    def messages(log: Path) -> list[str]:
        return [json.loads(line).get("message", "") for line in log.read_text().splitlines()
                if line.startswith("{") and line.endswith("}")]

    def processed(log: Path) -> list[str]:
        return [m for m in messages(log) if m.startswith((f"Processed '{RUN_TASK}'", f"Failed '{RUN_TASK}'"))]

    def both_deliveries_done() -> bool:
        return sum(len(processed(log)) for log in logs) == 2 * GENERATIONS

    wait_for(both_deliveries_done, seconds=90, what="both deliveries of every task", every=0.2)

    ids = [g.pk for g in generations]
    connection.close()
    assert Counter(Generation.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"completed": GENERATIONS}
    # Every delivery ran to its end, and exactly one of the two completed its generation
    # (the other found it claimed: skipped).
    assert all(message.startswith("Processed") for log in logs for message in processed(log))
    completed = Counter(int(match.group(1)) for log in logs for message in messages(log)
                        if (match := re.match(r"generation (\d+) completed: ", message)))
    assert completed == {pk: 1 for pk in ids}, completed
    for generation in Generation.objects.filter(pk__in=ids):
        assert generation.attempts == 1, generation
        assert default_storage.exists(generation.result_file.name)
        kinds = Counter(CreditLedgerEntry.objects.filter(reference=generation_reference(generation.pk))
                        .values_list("kind", flat=True))
        assert kinds == {CreditKind.GENERATION_CHARGE: 1}, kinds
    # Both clusters did part of the work.
    for log in logs:
        assert "Processed 'generations.tasks.generation_run'" in log.read_text(), log.name
    assert_money_conserved()
