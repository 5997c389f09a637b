"""Telegram's errors while notifying: a blocked bot marks the user unreachable, a 429
and transient errors are retried by schedule (never by sleeping), the rest fail once."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from telegram_bot.models import GenerationNotification
from telegram_bot.tasks import generation_notify
from tests.telegram_bot.helpers import generation_finished
from tests.telegram_bot.queue import clock_forward, scheduled, scheduled_run

pytestmark = pytest.mark.django_db

NOTIFY = "telegram_bot.tasks.generation_notify"


def notification(generation) -> GenerationNotification:
    return GenerationNotification.objects.get(pk=generation.pk)


@pytest.mark.parametrize("description", ["Forbidden: bot was blocked by the user", "Forbidden: user is deactivated"])
def test_a_user_who_blocked_the_bot_is_marked_unreachable_and_not_retried(owner, bot_settings, fake_telegram,
                                                                         description):
    fake_telegram.fail("sendPhoto", error_code=403, description=description, times=None)
    generation = generation_finished(owner)

    assert generation_notify(generation.pk) == "unreachable"

    owner.refresh_from_db()
    assert owner.is_reachable is False
    assert len(fake_telegram.calls_to("sendPhoto")) == 1
    assert not scheduled(NOTIFY)
    assert notification(generation).status == "failed"
    assert description in notification(generation).detail

    # The next generation is not even tried.
    later = generation_finished(owner, status="failed")
    assert generation_notify(later.pk) == "skipped"
    assert len(fake_telegram.calls) == 1
    assert notification(later).detail == "the user blocked the bot"


def test_429_is_rescheduled_after_retry_after_without_sleeping(owner, bot_settings, fake_telegram):
    # An hour: a worker that slept would hang the test instead of returning.
    fake_telegram.fail("sendPhoto", error_code=429, description="Too Many Requests: retry after 3600",
                       retry_after=3600)
    generation = generation_finished(owner)

    before = timezone.now()
    assert generation_notify(generation.pk) == "retry_scheduled"
    after = timezone.now()

    (retry,) = scheduled(NOTIFY)
    assert retry.schedule_type == "O"
    assert before + timedelta(seconds=3600) <= retry.next_run <= after + timedelta(seconds=3600)
    assert (notification(generation).status, notification(generation).next_attempt_at) == ("pending", retry.next_run)
    assert len(fake_telegram.calls_to("sendPhoto")) == 1

    # Another delivery of the original task before the retry is due leaves it alone.
    assert generation_notify(generation.pk) == "not_mine"
    assert len(fake_telegram.calls_to("sendPhoto")) == 1

    # Not a moment before it is due...
    clock_forward(3590)
    assert scheduled_run(NOTIFY) == []
    # ...and when the schedule fires, the photo goes out, once.
    clock_forward(10)
    assert scheduled_run(NOTIFY) == ["sent"]
    assert len(fake_telegram.calls_to("sendPhoto")) == 2  # the refused one and the delivered one
    assert (notification(generation).status, notification(generation).attempts) == ("sent", 2)
    assert not scheduled(NOTIFY)


def test_transient_errors_back_off_and_give_up_after_the_last_attempt(owner, bot_settings, fake_telegram, caplog):
    bot_settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS = 3
    bot_settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS = 30
    fake_telegram.fail("sendMessage", error_code=502, description="Bad Gateway", times=None)
    generation = generation_finished(owner, status="failed")

    delays = []
    outcome = generation_notify(generation.pk)
    while outcome == "retry_scheduled":
        (retry,) = scheduled(NOTIFY)
        delay = (retry.next_run - timezone.now()).total_seconds()
        delays.append(round(delay / 10) * 10)
        clock_forward(delay)
        with caplog.at_level(logging.ERROR, logger="telegram_bot"):
            (outcome,) = scheduled_run(NOTIFY)

    assert delays == [30, 60]
    assert outcome == "failed"
    assert "notification given up after 3 attempts" in caplog.text
    assert len(fake_telegram.calls_to("sendMessage")) == 3
    assert notification(generation).status == "failed"
    assert notification(generation).detail.startswith("gave up after 3 attempts")
    assert not scheduled(NOTIFY)
    assert User.objects.get(pk=owner.pk).is_reachable  # not the user's fault


def test_an_unreachable_bot_api_is_a_transient_error(owner, bot_settings):
    bot_settings.TELEGRAM_API_BASE_URL = "http://127.0.0.1:9"  # the discard port: connection refused
    generation = generation_finished(owner)

    assert generation_notify(generation.pk) == "retry_scheduled"
    assert len(scheduled(NOTIFY)) == 1
    assert notification(generation).detail.startswith("NetworkError")


def test_a_bad_request_fails_for_good(owner, bot_settings, fake_telegram):
    fake_telegram.fail("sendMessage", error_code=400, description="Bad Request: chat not found")
    generation = generation_finished(owner, status="failed")

    assert generation_notify(generation.pk) == "failed"

    assert not scheduled(NOTIFY)
    assert notification(generation).detail == "BadRequest: Chat not found"
    assert generation_notify(generation.pk) == "not_mine"
    assert len(fake_telegram.calls) == 1
