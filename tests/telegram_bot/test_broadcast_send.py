"""The worker sends a broadcast against the fake Bot API: each recipient once, Telegram's
answers handled (403 blocked, 429 retry_after, errors), within the shared rate, pausable."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ

from accounts.models import User
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery, SendBucket
from telegram_bot.broadcasts.services import (
    broadcast_cancel,
    broadcast_pause,
    broadcast_resume,
    broadcast_run,
    broadcast_start,
    broadcasts_resume,
)
from tests.factories import BroadcastFactory, recipients_create
from tests.telegram_bot.broadcast_helpers import SEND_TASK, messages_by_chat, run_until_done, statuses
from tests.telegram_bot.queue import queued

pytestmark = pytest.mark.django_db

Status = BroadcastDelivery.Status


@pytest.fixture
def fast(settings, fake_telegram):
    """Sending as fast as the tests can (the rate tests set their own)."""
    settings.BROADCAST_RATE_PER_SECOND = 10_000
    settings.BROADCAST_SEND_CONCURRENCY = 4
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    return settings


def started(broadcast, staff_user, django_capture_on_commit_callbacks) -> Broadcast:
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_start(broadcast_id=broadcast.pk, staff=staff_user)
    broadcast.refresh_from_db()
    return broadcast


def test_everyone_gets_the_message_once_with_its_html_and_button(fast, fake_telegram, staff_user,
                                                                  django_capture_on_commit_callbacks):
    users = recipients_create(30)
    broadcast = started(BroadcastFactory.create(button_kind="url", button_text="Open", button_url="https://nanogen.test/new"),
                        staff_user, django_capture_on_commit_callbacks)
    assert (broadcast.status, broadcast.recipients) == (Broadcast.Status.SENDING, 30)
    assert len(queued(SEND_TASK)) == 1

    assert run_until_done(broadcast) == ["completed"]

    assert messages_by_chat(fake_telegram) == {user.telegram_id: 1 for user in users}
    call = fake_telegram.last("sendMessage")
    assert call["text"] == "<b>News</b>: something new in NanoGen" and call["parse_mode"] == "HTML"
    assert call["reply_markup"] == {"inline_keyboard": [[{"text": "Open", "url": "https://nanogen.test/new"}]]}
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.COMPLETED and broadcast.finished_at
    assert statuses(broadcast) == {Status.SENT: 30}
    assert not BroadcastDelivery.objects.filter(telegram_message_id__isnull=True).exists()


def test_a_photo_goes_by_the_previews_file_id_and_a_mini_app_button_opens_the_app(
        fast, fake_telegram, staff_user, django_capture_on_commit_callbacks):
    recipients_create(3)
    broadcast = started(BroadcastFactory.create(text="<i>Look</i>", photo_file_id="AgACphoto-from-preview",
                                         button_kind="mini_app", button_text="Try it"),
                        staff_user, django_capture_on_commit_callbacks)
    run_until_done(broadcast)
    calls = fake_telegram.calls_to("sendPhoto")
    assert len(calls) == 3 and not fake_telegram.calls_to("sendMessage")
    assert {(c["photo"], c["caption"], c["parse_mode"]) for c in calls} == {("AgACphoto-from-preview", "<i>Look</i>",
                                                                            "HTML")}
    assert calls[0]["reply_markup"] == {"inline_keyboard": [[{"text": "Try it",
                                                               "web_app": {"url": "https://app.nanogen.test/"}}]]}


def test_users_who_blocked_the_bot_are_counted_and_marked_unreachable(fast, fake_telegram, staff_user,
                                                                       django_capture_on_commit_callbacks):
    recipients_create(5)
    fake_telegram.fail("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user", times=2)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    run_until_done(broadcast)

    assert statuses(broadcast) == {Status.SENT: 3, Status.BLOCKED: 2}
    blocked_chats = set(BroadcastDelivery.objects.filter(status=Status.BLOCKED).values_list("chat_id", flat=True))
    assert set(User.objects.filter(is_reachable=False).values_list("telegram_id", flat=True)) == blocked_chats
    assert BroadcastDelivery.objects.filter(status=Status.BLOCKED).first().error == (
        "403: Forbidden: bot was blocked by the user")


def test_a_429_closes_the_bucket_for_retry_after_and_the_message_is_sent_later_once(
        fast, fake_telegram, staff_user, django_capture_on_commit_callbacks):
    users = recipients_create(6)
    fake_telegram.fail("sendMessage", error_code=429, description="Too Many Requests: retry after 1", retry_after=1)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)

    run_until_done(broadcast)

    assert messages_by_chat(fake_telegram) == {user.telegram_id: 1 for user in users}
    assert statuses(broadcast) == {Status.SENT: 6}
    assert len(fake_telegram.calls_to("sendMessage")) == 7
    bucket = SendBucket.objects.get()
    assert bucket.paused_until is not None


def test_refusals_fail_for_good_and_lost_answers_are_never_resent(fast, fake_telegram, staff_user, settings,
                                                                   django_capture_on_commit_callbacks):
    recipients_create(4)
    fake_telegram.fail("sendMessage", error_code=400, description="Bad Request: chat not found")
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    run_until_done(broadcast)
    assert statuses(broadcast) == {Status.SENT: 3, Status.FAILED: 1}
    assert BroadcastDelivery.objects.get(status=Status.FAILED).error == "400: Bad Request: chat not found"


def test_a_telegram_500_is_retried_a_few_times_then_failed(fast, fake_telegram, staff_user, settings, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    settings.BROADCAST_SEND_MAX_ATTEMPTS = 2
    monkeypatch.setattr("telegram_bot.broadcasts.services.sending.TRANSIENT_PAUSE_SECONDS", 0.01)
    recipients_create(1)
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=None)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    assert run_until_done(broadcast) == ["completed"]
    delivery = BroadcastDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 2)
    assert len(fake_telegram.calls_to("sendMessage")) == 2


def test_a_broken_bot_token_pauses_the_broadcast(fast, fake_telegram, staff_user, settings,
                                                 django_capture_on_commit_callbacks):
    recipients_create(3)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    settings.TELEGRAM_BOT_TOKEN = "999:REVOKED"  # the fake answers 401 Unauthorized
    run_until_done(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.PAUSED
    assert broadcast.last_error.startswith("Telegram refused the bot: 401")
    assert statuses(broadcast) == {Status.PENDING: 3}


@pytest.mark.django_db(transaction=True)
def test_pause_stops_it_resume_goes_on_and_nobody_gets_it_twice(fast, fake_telegram, staff_user):
    users = recipients_create(20)
    fast.BROADCAST_SEND_CONCURRENCY = 1
    broadcast = BroadcastFactory.create()
    broadcast_start(broadcast_id=broadcast.pk, staff=staff_user)
    sent = []

    def send_and_pause_at_five(call):
        # Staff press Pause while the fifth message is on its way (from the fake's own thread).
        sent.append(int(call["chat_id"]))
        if len(sent) == 5:
            try:
                assert broadcast_pause(broadcast_id=broadcast.pk)
            finally:
                connection.close()
        return {"message_id": len(sent), "date": 0, "chat": {"id": int(call["chat_id"]), "type": "private"}}

    fake_telegram.respond("sendMessage", send_and_pause_at_five)
    run_until_done(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.PAUSED
    # The run sees the pause at its next claim: what it claimed before still goes out.
    paused_at = len(sent)
    assert 5 <= paused_at < 20
    assert statuses(broadcast) == {Status.SENT: paused_at, Status.PENDING: 20 - paused_at}

    assert broadcast_resume(broadcast_id=broadcast.pk)
    run_until_done(broadcast)
    assert sorted(sent) == sorted(300_000 + i for i in range(len(users)))
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.COMPLETED


def test_cancel_stops_it_for_good(fast, fake_telegram, staff_user, django_capture_on_commit_callbacks):
    recipients_create(5)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    assert broadcast_cancel(broadcast_id=broadcast.pk)
    assert run_until_done(broadcast) == ["not_mine"]
    assert not fake_telegram.calls_to("sendMessage")
    assert not broadcast_resume(broadcast_id=broadcast.pk)
    assert statuses(broadcast) == {Status.PENDING: 5}


def test_one_worker_at_a_time_and_a_dead_workers_broadcast_is_handed_over(fast, fake_telegram, staff_user,
                                                                          django_capture_on_commit_callbacks):
    recipients_create(3)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    OrmQ.objects.all().delete()  # the start's task is lost (the Redis broker, a dead worker)
    live = timezone.now() + timedelta(seconds=60)
    Broadcast.objects.filter(pk=broadcast.pk).update(lease_until=live, lease_token="other-worker")
    assert broadcast_run(broadcast_id=broadcast.pk) == "not_mine"
    assert broadcasts_resume() == 0

    Broadcast.objects.filter(pk=broadcast.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert broadcasts_resume() == 1
    assert run_until_done(broadcast)[-1] == "completed"
    assert statuses(broadcast) == {Status.SENT: 3}


def test_deliveries_a_dead_worker_left_sending_are_never_resent(fast, fake_telegram, staff_user,
                                                                 django_capture_on_commit_callbacks):
    recipients_create(4)
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    first, second = BroadcastDelivery.objects.order_by("id")[:2]
    # A worker claimed these and died: one long ago, one a moment ago.
    BroadcastDelivery.objects.filter(pk=first.pk).update(status=Status.SENDING,
                                                         claimed_at=timezone.now() - timedelta(hours=1))
    BroadcastDelivery.objects.filter(pk=second.pk).update(status=Status.SENDING, claimed_at=timezone.now())

    assert run_until_done(broadcast) == ["waiting"]
    assert messages_by_chat(fake_telegram).keys() == set(
        BroadcastDelivery.objects.exclude(pk__in=[first.pk, second.pk]).values_list("chat_id", flat=True))
    first.refresh_from_db()
    assert first.status == Status.FAILED and first.error.startswith("interrupted")

    BroadcastDelivery.objects.filter(pk=second.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert broadcast_run(broadcast_id=broadcast.pk) == "completed"
    assert statuses(broadcast) == {Status.SENT: 2, Status.FAILED: 2}
    assert len(fake_telegram.calls_to("sendMessage")) == 2


def test_above_telegrams_limit_the_429s_are_honoured_and_everyone_gets_it_once(
        fast, fake_telegram, staff_user, django_capture_on_commit_callbacks):
    users = recipients_create(45)
    fake_telegram.global_rate_limit(20)
    fast.BROADCAST_RATE_PER_SECOND = 1000  # far above the fake's 20 a second
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    run_until_done(broadcast)
    assert fake_telegram.global_rate_limited > 0
    assert messages_by_chat(fake_telegram) == {user.telegram_id: 1 for user in users}
    assert statuses(broadcast) == {Status.SENT: 45}


def test_within_the_configured_rate_telegram_never_says_429(fast, fake_telegram, staff_user,
                                                            django_capture_on_commit_callbacks):
    users = recipients_create(30)
    fake_telegram.global_rate_limit(30)
    # 10 a second with a burst of 1 leaves room for the 4 calls in flight to arrive together.
    fast.BROADCAST_RATE_PER_SECOND = 10
    broadcast = started(BroadcastFactory.create(), staff_user, django_capture_on_commit_callbacks)
    run_until_done(broadcast)
    assert fake_telegram.global_rate_limited == 0
    assert messages_by_chat(fake_telegram) == {user.telegram_id: 1 for user in users}
