"""Django-Q2's ORM broker with fewer round trips: the queue of a cluster without Redis.

Django-Q2's own ORM broker (`django_q.brokers.orm.ORM`) runs `close_old_connections()`
before every statement, and with CONN_HEALTH_CHECKS each of those costs a `SELECT 1`
more. Per task that made eight round trips in the cluster's pusher and monitor: a check
and a SELECT of the next task, a check and the UPDATE that locks it, a check, BEGIN,
DELETE and COMMIT to acknowledge it. This one, per task: one UPDATE that locks the next
due tasks (up to Q_CLUSTER `bulk`) and returns them, and one DELETE that acknowledges
one; both prepared (core.statements), with no transaction of their own.

Connections: `close_old_connections()` (CONN_MAX_AGE, and a health check on first use)
runs only when the pusher comes back from an empty poll, i.e. after its connection may
have sat idle; a busy pusher and the monitor run on the connection they have, and a
statement that finds it dropped (a PostgreSQL restart, a failover, a killed backend)
runs once more on a new one. Both statements may run twice without harm: the lock
UPDATE taken twice only delays its tasks until `retry` (then they are delivered again,
which every task is written for), and deleting a deleted row deletes nothing.

Everything else (enqueue, queue sizes, the admin) is Django-Q2's own. PostgreSQL only
(SKIP LOCKED); on SQLite, a local run, Django-Q2's broker runs unchanged.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from core.statements import Statement, model_column

T = TypeVar("T")


def _dequeue_sql(db: BaseDatabaseWrapper) -> str:
    """Lock the oldest due tasks of a cluster until their redelivery time, and return them.
    SKIP LOCKED: two clusters (or two pushers) never wait for each other nor take the
    same task; a task another pusher locked meanwhile no longer matches `lock < now`."""
    table = db.ops.quote_name(OrmQ._meta.db_table)
    pk, key, lock, payload = (model_column(db, OrmQ, name) for name in ("id", "key", "lock", "payload"))
    return (
        f"UPDATE {table} SET {lock} = %s WHERE {pk} IN ("  # noqa: S608 - quoted names from the model's meta
        f"SELECT {pk} FROM {table} WHERE {key} = %s AND {lock} < %s ORDER BY {pk} LIMIT %s "
        f"FOR UPDATE SKIP LOCKED) RETURNING {pk}, {payload}"
    )


def _delete_sql(db: BaseDatabaseWrapper) -> str:
    table = db.ops.quote_name(OrmQ._meta.db_table)
    pk = model_column(db, OrmQ, "id")
    return f"DELETE FROM {table} WHERE {pk} = %s RETURNING {pk}"  # noqa: S608 - quoted names from the model's meta


_DEQUEUE = Statement(_dequeue_sql)
_DELETE = Statement(_delete_sql)


class OrmBroker(ORM):  # type: ignore[misc]  # django_q ships no types
    """Q_CLUSTER `broker_class` when the queue is the database (see the module docstring)."""

    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key=list_key)
        self._idle = True  # the connection has not been used since the last empty poll

    def dequeue(self) -> list[tuple[int, str]] | None:
        if not _postgresql():
            return super().dequeue()  # type: ignore[no-any-return]
        if self._idle:
            close_old_connections()
        now = timezone.now()
        redeliver_at = now + timedelta(seconds=Conf.RETRY)
        rows = _once_more_if_dropped(lambda: _DEQUEUE.rows([redeliver_at, self.list_key, now, Conf.BULK],
                                                           using=Conf.ORM))
        if rows:
            self._idle = False
            return sorted((int(pk), str(payload)) for pk, payload in rows)
        self._idle = True
        time.sleep(Conf.POLL)  # an empty queue: spare the database (Q_CLUSTER `poll`)
        return None

    def delete(self, task_id: int) -> None:
        if not _postgresql():
            super().delete(task_id)
            return
        _once_more_if_dropped(lambda: _DELETE.rows([task_id], using=Conf.ORM))

    def acknowledge(self, task_id: int) -> None:
        self.delete(task_id)


def _postgresql() -> bool:
    return connections[Conf.ORM].vendor == "postgresql"


def _once_more_if_dropped(run: Callable[[], T]) -> T:
    """`run()`, and once more on a new connection when the database connection it used had
    dropped (outside a transaction only: inside one, the caller's work is gone)."""
    connection = connections[Conf.ORM]
    try:
        return run()
    except (InterfaceError, OperationalError):
        if not connection.get_autocommit():
            raise
        connection.close()
        return run()

