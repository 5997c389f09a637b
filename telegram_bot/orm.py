"""The bot's bridge from its event loop to the Django ORM.

Django's ORM is synchronous: handlers call services through `db(service)(...)`,
which runs them with asgiref's `sync_to_async` in the one thread Django keeps for
sync work (thread_sensitive), so all database access of the bot shares one
connection and never blocks the event loop. Outside a request cycle nothing
recycles that connection, so each call does what Django does around a request:
drop a connection that broke or outlived CONN_MAX_AGE before and after the work.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

P = ParamSpec("P")
R = TypeVar("R")


def _recycle_connection() -> None:
    # Inside an atomic block (only ever a test's transaction) closing would lose it.
    if not connection.in_atomic_block:
        close_old_connections()


def db(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`fn` made awaitable: it runs in Django's sync thread with a healthy connection."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        _recycle_connection()
        try:
            return fn(*args, **kwargs)
        finally:
            _recycle_connection()

    return sync_to_async(run, thread_sensitive=True)


def db_apart(fn: Callable[P, R], executor: Executor) -> Callable[P, Awaitable[R]]:
    """`fn` made awaitable in a thread of `executor`, with that thread's own healthy
    connection: for work that must not wait behind the handlers' in the sync thread."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(run, *args, **kwargs))

    return call
