"""Helpers shared by the whole suite: the fixed cast's ids, signed init data, API clients, credits, real threads."""

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import CreditKind, User
from accounts.services import credits_change
from accounts.telegram_init_data import init_data_sign

OWNER_TELEGRAM_ID = 1001
STRANGER_TELEGRAM_ID = 2002


def init_data_for(
    telegram_id: int,
    *,
    first_name: str = "Test",
    username: str = "",
    language_code: str = "en",
    auth_date: int | None = None,
    bot_token: str | None = None,
    **extra_user: Any,
) -> str:
    user = {"id": telegram_id, "first_name": first_name, "language_code": language_code, **extra_user}
    if username:
        user["username"] = username
    return init_data_sign(
        {
            "auth_date": str(int(time.time()) if auth_date is None else auth_date),
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": json.dumps(user),
        },
        bot_token=bot_token or settings.TELEGRAM_BOT_TOKEN,
    )


def api_client_for(telegram_id: int, **user_fields: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"tma {init_data_for(telegram_id, **user_fields)}")
    return client


def credits_give(user: User, amount: int) -> None:
    credits_change(user_id=user.pk, amount=amount, kind=CreditKind.GRANT, note="test")
    user.refresh_from_db()


def run_in_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run `target(i)` in `count` real threads started together; return results in order.

    Each thread has its own database connection, closed when it ends, so the test
    exercises PostgreSQL's row locks and constraints for real.
    """
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
