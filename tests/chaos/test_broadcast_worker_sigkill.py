"""Chaos: the worker sending a broadcast is SIGKILLed in the middle. Another worker takes
it over and finishes it, and no recipient gets the message twice: deliveries are claimed
before they are sent, and one a dead worker had claimed is never sent again."""

import signal
from collections import Counter

import pytest
from django.db import connection

from accounts.models import User
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery
from telegram_bot.broadcasts.services import broadcast_start, broadcasts_resume
from tests.chaos.helpers import qcluster
from tests.factories import BroadcastFactory, recipients_create
from tests.ops.processes import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 300
CONCURRENCY = 4
Status = BroadcastDelivery.Status


def sent_count() -> int:
    connection.close()
    return BroadcastDelivery.objects.filter(status=Status.SENT).count()


def worker(log, fake_telegram):
    return qcluster(log, TELEGRAM_API_BASE_URL=fake_telegram.base_url, BROADCAST_RATE_PER_SECOND="60",
                    BROADCAST_SEND_CONCURRENCY=str(CONCURRENCY)).start()


def test_sigkill_of_the_worker_in_the_middle_of_a_broadcast(fake_telegram, processes, tmp_path):
    fake_telegram.latency(0.02)  # every answer takes a moment, as over the internet
    recipients_create(RECIPIENTS)
    staff = User.objects.create_superuser(email="staff@example.com", password="x")
    broadcast = BroadcastFactory.create()
    assert broadcast_start(broadcast_id=broadcast.pk, staff=staff) == RECIPIENTS  # enqueued on commit
    log = tmp_path / "qcluster.log"

    first = worker(log, fake_telegram)
    processes.append(first)
    wait_for(lambda: sent_count() >= 60, seconds=60, what="the first worker to send")
    first.stop(signal.SIGKILL)
    at_kill = sent_count()
    assert at_kill < RECIPIENTS, "the kill should land in the middle of the broadcast"

    processes.append(worker(log, fake_telegram))

    def finished() -> bool:
        # The resume schedule, every second instead of every minute: hands the broadcast
        # of the dead worker to the live one once its lease ran out.
        broadcasts_resume()
        connection.close()
        return Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.COMPLETED

    wait_for(finished, seconds=120, what="the broadcast to complete", every=1.0)

    delivered = Counter(int(call["chat_id"]) for call in fake_telegram.delivered("sendMessage"))
    twice = {chat: n for chat, n in delivered.items() if n > 1}
    assert not twice, f"received more than once: {twice}"
    counts = Counter(BroadcastDelivery.objects.filter(broadcast=broadcast).values_list("status", flat=True))
    assert set(counts) <= {Status.SENT, Status.FAILED}, counts
    assert counts[Status.SENT] + counts[Status.FAILED] == RECIPIENTS
    # At most what the dead worker had in flight is lost: failed as interrupted, never resent.
    interrupted = BroadcastDelivery.objects.filter(status=Status.FAILED, error__startswith="interrupted")
    assert counts[Status.FAILED] == interrupted.count() <= CONCURRENCY
    sent_chats = set(BroadcastDelivery.objects.filter(status=Status.SENT).values_list("chat_id", flat=True))
    assert sent_chats <= set(delivered)
    assert counts[Status.SENT] > at_kill, "the second worker should have taken over"
