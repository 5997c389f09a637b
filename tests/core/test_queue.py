"""core.queue.task_enqueue_light: the package async_task makes, on the ORM broker and on
Redis, and a real cluster runs what a start enqueued with it on either."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from django_q.conf import Conf
from django_q.humanhash import humanize
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from core.queue import task_enqueue_light, task_enqueue_light_reset
from core.task_names import GENERATION_RUN
from generations.models import AIModel, Generation
from tests.chaos.helpers import qcluster
from tests.factories import AIModelFactory
from tests.helpers import OWNER_TELEGRAM_ID, api_client_for, credits_give
from tests.ops.processes import Process, wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def on_redis(monkeypatch) -> Iterator[redis.Redis]:
    """This process enqueues onto Redis, as a web process with REDIS_URL set does."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    client.flushdb()
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)  # the ORM broker's (core.broker), set with ORM
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    task_enqueue_light_reset()
    yield client
    task_enqueue_light_reset()
    client.flushdb()
    client.close()


def same_fields(light: dict, reference: dict) -> None:
    assert set(light) == set(reference)
    for key in ("func", "args", "kwargs", "ack_failure"):
        assert light[key] == reference[key], key


@pytest.mark.django_db
def test_the_orm_package_is_async_tasks(django_capture_on_commit_callbacks):
    task_id = task_enqueue_light(GENERATION_RUN, 41)
    async_task(GENERATION_RUN, 41)
    light, reference = (SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id"))
    same_fields(light, reference)
    assert light["id"] == task_id
    assert light["name"] == humanize(task_id)  # async_task's name for a task without one
    assert OrmQ.objects.order_by("id").first().key == Conf.CLUSTER_NAME


@pytest.mark.django_db
def test_a_task_name_is_kept():
    task_enqueue_light(GENERATION_RUN, 7, task_name="generation-7-requeue")
    assert OrmQ.objects.get().task["name"] == "generation-7-requeue"


@pytest.mark.django_db
def test_the_redis_package_is_async_tasks(on_redis):
    task_id = task_enqueue_light(GENERATION_RUN, 42)
    async_task(GENERATION_RUN, 42)
    light, reference = (SignedPackage.loads(raw.decode()) for raw in
                        on_redis.lrange(f"django_q:{Conf.CLUSTER_NAME}:q", 0, -1))
    same_fields(light, reference)
    assert light["id"] == task_id
    assert not OrmQ.objects.exists()


@pytest.fixture
def demo_model(db: None) -> AIModel:
    return AIModelFactory.create(slug="queue-demo", name="Queue demo", kind=AIModel.Kind.IMAGE,
                                 provider=AIModel.Provider.DEMO, provider_model_id="demo", price=3)


def test_a_starts_task_is_named_after_its_generation(owner, demo_model, django_capture_on_commit_callbacks):
    """The admin's task lists (queued, failed) say which generation a task runs."""
    credits_give(owner, 10)
    owner_client = api_client_for(OWNER_TELEGRAM_ID, first_name="Owner", username="owner")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/api/generations", {"model": "queue-demo", "prompt": "a fox"}, format="json")
    assert response.status_code == 201, response.content
    assert [row.task["name"] for row in OrmQ.objects.all()] == [f"generation-{response.json()['id']}"]


@pytest.fixture
def cluster(tmp_path) -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def start_and_wait(cluster: list[Process], log: Path, **env: str) -> None:
    cluster.append(qcluster(log, DEMO_PROVIDER_DELAY_SECONDS="0", **env).start())
    wait_for(lambda: log.exists() and "running" in log.read_text(), seconds=30, what="the cluster to run")
    owner_client = api_client_for(OWNER_TELEGRAM_ID, first_name="Owner", username="owner")
    response = owner_client.post("/api/generations", {"model": "queue-demo", "prompt": "a fox"}, format="json")
    assert response.status_code == 201, response.content
    generation_id = response.json()["id"]

    def completed() -> bool:
        connection.close()
        return Generation.objects.get(pk=generation_id).status == Generation.Status.COMPLETED

    wait_for(completed, seconds=60, what="the cluster to complete the generation", every=0.2)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_cluster_runs_a_start_enqueued_on_the_orm_broker(owner, demo_model, cluster, tmp_path):
    credits_give(owner, 10)
    start_and_wait(cluster, tmp_path / "cluster.log")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_cluster_runs_a_start_enqueued_on_redis(owner, demo_model, on_redis, cluster, tmp_path):
    credits_give(owner, 10)
    start_and_wait(cluster, tmp_path / "cluster.log", REDIS_URL=REDIS_URL)
    assert not OrmQ.objects.exists()
