"""core.broker.OrmBroker: Django-Q2's ORM broker with one statement to take tasks and
one to acknowledge each, and no health check per statement."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from core.broker import OrmBroker
from tests.ops.processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def queued(key: str = "nanogen", count: int = 1, *, lock=None) -> list[int]:
    return [OrmQ.objects.create(key=key, payload=f"task {i}", lock=lock or timezone.now()).pk for i in range(count)]


@pytest.fixture
def broker(monkeypatch) -> OrmBroker:
    monkeypatch.setattr(Conf, "POLL", 0)  # an empty queue: no sleep
    return OrmBroker(list_key="nanogen")


def test_the_settings_use_it_for_the_orm_queue():
    from django_q.brokers import get_broker

    assert isinstance(get_broker(), OrmBroker)


def test_dequeue_takes_the_oldest_due_task_of_its_cluster_and_locks_it(broker, monkeypatch):
    first, second = queued(count=2)
    queued(key="another-cluster")
    queued(lock=timezone.now() + timedelta(seconds=60))  # taken by a pusher, not due
    assert broker.dequeue() == [(first, "task 0")]
    assert OrmQ.objects.get(pk=first).lock > timezone.now() + timedelta(seconds=Conf.RETRY - 5)
    assert broker.dequeue() == [(second, "task 1")]
    assert broker.dequeue() is None  # the rest is locked or another cluster's

    monkeypatch.setattr(Conf, "BULK", 3)
    taken = queued(count=4)
    assert [pk for pk, _ in broker.dequeue()] == taken[:3]


def test_a_busy_pusher_takes_a_task_in_one_statement_and_the_monitor_acknowledges_it_in_one(broker):
    first, second = queued(count=2)
    broker.dequeue()  # after an empty poll: the connection is checked first
    with CaptureQueriesContext(connection) as captured:
        assert broker.dequeue() == [(second, "task 1")]
        broker.acknowledge(first)
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 2, statements  # no SELECT 1, no BEGIN or COMMIT
    assert list(OrmQ.objects.values_list("pk", flat=True)) == [second]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def backend_terminate(pid: int) -> None:
    """What a PostgreSQL restart, a failover or an idle timeout does to a connection."""
    with psycopg.connect(database_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_dropped_connection_is_replaced_and_the_statement_runs_again(broker):
    (first,) = queued()
    assert broker.dequeue() == [(first, "task 0")]
    (second,) = queued()
    dropped = backend_pid()
    backend_terminate(dropped)
    # A busy pusher checks nothing first: its statement finds the connection gone and runs again.
    assert broker.dequeue() == [(second, "task 0")]
    assert backend_pid() != dropped

    backend_terminate(backend_pid())
    broker.acknowledge(first)
    assert list(OrmQ.objects.values_list("pk", flat=True)) == [second]
