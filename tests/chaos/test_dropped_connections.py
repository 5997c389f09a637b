"""Chaos: PostgreSQL drops the connections of the web and worker processes again and
again while clients start generations over HTTP and the worker runs them.

Clients retry a failed request with the same idempotency key, as the Mini App
does. Afterwards every generation has ended, every start a client saw succeed
exists, no intent made two generations, and no credit was created or lost."""

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg
import pytest
from django.db import connection

from generations.models import Generation
from tests.chaos.helpers import (
    Sweeper,
    assert_every_generation_ended,
    assert_money_conserved,
    qcluster,
    wait_until_all_ended,
)
from tests.helpers import init_data_for
from tests.ops.processes import database_url, free_port, gunicorn, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

LOAD_SECONDS = 4.0
CLIENTS = 6
INTENTS_PER_CLIENT = 8  # the worker has to run them all afterwards
KILL_EVERY = 0.2
RETRIES = 6
APPS = ("nanogen-chaos-web", "nanogen-chaos-worker")


@dataclass
class Outcomes:
    statuses: Counter = field(default_factory=Counter)
    # (telegram id, idempotency key) -> generation id, for starts a client saw succeed.
    acknowledged: dict[tuple[int, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def start_with_retries(port: int, telegram_id: int, key: str, outcomes: Outcomes) -> None:
    body = json.dumps({"model": "chaos-demo", "prompt": f"chaos {key}", "idempotency_key": key})
    headers = {"Authorization": f"tma {init_data_for(telegram_id)}", "Content-Type": "application/json"}
    for _attempt in range(RETRIES):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            client.request("POST", "/api/generations", body=body, headers=headers)
            response = client.getresponse()
            status, payload = response.status, response.read()
        except OSError:
            status, payload = 0, b""
        finally:
            client.close()
        with outcomes.lock:
            outcomes.statuses[status] += 1
        if status == 201:
            generation_id = json.loads(payload)["id"]
        elif status == 409:
            generation_id = json.loads(payload)["generation"]["id"]  # an earlier try went through
        else:
            time.sleep(0.05)  # 5xx or a dropped connection: try the same intent again
            continue
        with outcomes.lock:
            outcomes.acknowledged[(telegram_id, key)] = generation_id
        return


def kill_app_connections(stop: threading.Event, killed: Counter[str]) -> None:
    with psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=True) as killer:
        while not stop.wait(KILL_EVERY):
            rows = killer.execute(
                "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = ANY(%s) AND pid <> pg_backend_pid()",
                [list(APPS)],
            ).fetchall()
            for application, _ in rows:
                killed[application] += 1


def test_connections_dropped_under_load(cast, demo_model, sweeper_settings, processes, tmp_path):
    # A start whose enqueue died with its connection waits for the sweeper; a few
    # seconds, so that the backlog is not flooded with duplicate deliveries.
    sweeper_settings.GENERATION_PENDING_REQUEUE_SECONDS = 3
    port = free_port()
    processes.append(gunicorn(port=port, log=tmp_path / "web.log", workers=2,
                              DATABASE_URL=f"{database_url()}?application_name={APPS[0]}",
                              GENERATION_RATE_LIMIT_PER_MINUTE="100000", GENERATION_MAX_ACTIVE="100000").start())
    processes.append(qcluster(tmp_path / "worker.log", DATABASE_URL=f"{database_url()}?application_name={APPS[1]}",
                              DEMO_PROVIDER_DELAY_SECONDS="0").start())

    def web_answers() -> bool:
        try:
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            client.request("GET", "/api/health")
            return client.getresponse().status == 200
        except OSError:
            return False

    wait_for(web_answers, seconds=30, what="gunicorn to answer")

    outcomes, killed, stop_killing = Outcomes(), Counter[str](), threading.Event()
    deadline = time.monotonic() + LOAD_SECONDS

    def client_loop(user_index: int) -> None:
        telegram_id = cast[user_index].telegram_id
        number = 0
        while time.monotonic() < deadline and number < INTENTS_PER_CLIENT:
            number += 1
            start_with_retries(port, telegram_id, f"u{user_index}-{number}", outcomes)

    killer = threading.Thread(target=kill_app_connections, args=(stop_killing, killed))
    clients = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    with Sweeper(every=1.0):
        killer.start()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=LOAD_SECONDS + 60)
        stop_killing.set()
        killer.join(timeout=10)
        wait_until_all_ended(seconds=90)

    connection.close()
    assert killed[APPS[0]] and killed[APPS[1]], killed
    assert outcomes.acknowledged, outcomes.statuses
    assert_every_generation_ended()
    assert_money_conserved()
    # Every start a client saw succeed exists, for that user and intent.
    rows = {g.pk: g for g in Generation.objects.select_related("user").filter(pk__in=outcomes.acknowledged.values())}
    for (telegram_id, key), generation_id in outcomes.acknowledged.items():
        generation = rows[generation_id]
        assert (generation.user.telegram_id, generation.idempotency_key) == (telegram_id, key)
    # No intent made two generations, however often it was retried.
    per_intent = Counter(Generation.objects.values_list("user_id", "idempotency_key"))
    assert max(per_intent.values()) == 1, [intent for intent, n in per_intent.items() if n > 1]
    print(f"\nchaos: statuses {dict(outcomes.statuses)}, killed {dict(killed)}, "
          f"generations {Generation.objects.count()}, "
          f"by status {dict(Counter(Generation.objects.values_list('status', flat=True)))}")
