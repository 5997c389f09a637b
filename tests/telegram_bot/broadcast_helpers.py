"""Helpers of the broadcast tests: running the sending task in-process as the worker would, reading who got what."""

from collections import Counter
from typing import Any

from django.db import connection

from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery
from tests.telegram_bot.queue import queued, queued_run

SEND_TASK = "telegram_bot.tasks.broadcast_send"


def run_until_done(broadcast: Broadcast, *, max_runs: int = 50) -> list[str]:
    """Run the queued sending tasks (each run enqueues the next) until none is left;
    the runs' outcomes."""
    outcomes: list[str] = []
    for _ in range(max_runs):
        if not queued(SEND_TASK):
            return outcomes
        outcomes += queued_run(SEND_TASK)
    raise AssertionError(f"still sending after {max_runs} runs: {outcomes[-5:]}")


def messages_by_chat(fake: Any, method: str = "sendMessage") -> Counter:
    """How many messages each chat got: the calls the fake answered ok."""
    return Counter(int(call["chat_id"]) for call in fake.delivered(method))


def statuses(broadcast: Broadcast) -> dict[str, int]:
    return dict(Counter(BroadcastDelivery.objects.filter(broadcast=broadcast).values_list("status", flat=True)))


def database_url() -> str:
    from tests.ops.processes import database_url as url

    connection.ensure_connection()
    return url()
