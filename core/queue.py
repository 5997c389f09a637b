"""A light enqueue of a Django-Q2 task, for the hot path that enqueues on every request.

`django_q.tasks.async_task` builds a broker per call (on Redis a new connection pool,
so a new TCP connection each time; on the ORM broker a `close_old_connections()` and
an ORM insert) and formats a log line at INFO whatever the level. `task_enqueue_light`
makes the very same package (the same fields, signed with the same key and salt, so any
cluster runs it as one of async_task's) and pushes it through a broker built once
per process: on Redis the same RPUSH on a kept connection pool, on the ORM broker the
same row inserted by a prepared statement (`core.statements`).

It takes what the hot path needs, positional arguments and a task name, nothing else;
anything fancier (hooks, groups, a synchronous run in tests with `sync`) goes through
async_task. Like async_task it raises when the broker is unreachable: callers that
enqueue on commit keep their own recovery (the sweeper re-enqueues pending
generations whose enqueue was lost).
"""

import threading
import uuid
from functools import cache
from typing import Any

from django.core.signing import TimestampSigner
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.humanhash import humanize
from django_q.models import OrmQ
from django_q.signals import pre_enqueue
from django_q.signing import PickleSerializer
from django_q.tasks import async_task

from core.statements import Statement, model_column


def _queue_row_sql(connection: BaseDatabaseWrapper) -> str:
    table = connection.ops.quote_name(OrmQ._meta.db_table)
    key, payload, lock, pk = (model_column(connection, OrmQ, name) for name in ("key", "payload", "lock", "id"))
    return f"INSERT INTO {table} ({key}, {payload}, {lock}) VALUES (%s, %s, %s) RETURNING {pk}"  # noqa: S608


_QUEUE_ROW = Statement(_queue_row_sql)
_broker: Broker | None = None
_broker_lock = threading.Lock()


def task_enqueue_light(func: str, *args: Any, task_name: str | None = None) -> str:
    """Queue `func(*args)` for the cluster as `async_task(func, *args)` would; its task id.

    `task_name` is what the admin's task lists show; without one the task gets
    Django-Q2's human-readable hash of its id, as async_task gives it (which costs the
    hot path more than a name it already knows)."""
    if Conf.SYNC:  # tests that run tasks in-process: async_task knows how
        options = {"task_name": task_name} if task_name else {}
        return str(async_task(func, *args, **options))
    task_id = uuid.uuid4().hex  # what django_q.humanhash.uuid() takes as its digest
    task: dict[str, Any] = {"id": task_id, "name": task_name or humanize(task_id), "func": func, "args": args}
    if Conf.CACHED:
        task["cached"] = Conf.CACHED
    if Conf.ACK_FAILURES:
        task["ack_failure"] = Conf.ACK_FAILURES
    task["kwargs"] = {}
    task["started"] = timezone.now()
    pre_enqueue.send(sender="django_q", task=task)
    # SignedPackage.dumps(task), with the signer built once for the key and salt.
    package = _signer(Conf.SECRET_KEY, Conf.PREFIX).sign_object(
        task, serializer=PickleSerializer, compress=Conf.COMPRESSED
    )
    if Conf.ORM:
        # What the ORM broker's enqueue inserts (an OrmQ of key, payload and lock), without
        # its close_old_connections(): the caller's connection is the request's (or the
        # task's), already checked. The three values, no model instance; the timestamp as
        # the field stores it (on SQLite a text without the offset: the broker takes a
        # task by comparing its lock with the value it read, so the text must match).
        connection = connections[Conf.ORM]
        lock = connection.ops.adapt_datetimefield_value(task["started"])
        _QUEUE_ROW.rows_on(connection, [Conf.CLUSTER_NAME, package, lock])
    else:
        _process_broker().enqueue(package)
    return str(task["id"])


@cache
def _signer(key: str, salt: str) -> TimestampSigner:
    """Django's signer as django_q.signing builds it on every call; it keeps nothing
    between signatures but its key and salt."""
    return TimestampSigner(key=key, salt=salt)


def _process_broker() -> Broker:
    """The cluster's broker, built once per process (its connection pool is fork-safe)."""
    global _broker
    if _broker is None:
        with _broker_lock:
            if _broker is None:
                _broker = get_broker()
    return _broker


def task_enqueue_light_reset() -> None:
    """Forget the process's broker (tests that change the queue's settings)."""
    global _broker
    _broker = None
