"""The status message of a generation started in the chat follows it: queued when
the bot starts it, generating when a worker takes it up, done (then the result) or
failed and refunded. One edit per change, never two at once, 429 honoured."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generations.models import Generation
from generations.services import generation_cancel_if_active, generation_claim, generation_fail
from telegram_bot.models import StatusMessage
from telegram_bot.tasks import generation_notify, generation_progress
from tests.helpers import credits_give, run_in_threads
from tests.telegram_bot.helpers import result_store_and_complete
from tests.telegram_bot.queue import clock_forward, queued, queued_run, scheduled, scheduled_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

PROGRESS = "telegram_bot.tasks.generation_progress"


@pytest.fixture
def started(feed, updates, fake_telegram, owner, owner_profile) -> Generation:
    """A generation the owner started with a text message; its status message sent."""
    credits_give(owner, 10)
    feed(updates.text(owner_profile, "a red fox in the snow"))
    generation = Generation.objects.select_related("user", "model").get(user=owner)
    assert StatusMessage.objects.get(pk=generation.pk).message_id is not None
    return generation


def edits(fake_telegram) -> list[str]:
    return [call["text"] for call in fake_telegram.calls_to("editMessageText")]


def test_the_message_follows_the_generation_to_done_then_the_result_comes(started, fake_telegram, audit_passes):
    status_id = StatusMessage.objects.get(pk=started.pk).message_id

    generation_claim(generation_id=started.pk)
    assert generation_progress(started.pk) == "edited"
    assert generation_progress(started.pk) == "up_to_date"  # a repeat edits nothing
    result_store_and_complete(started)
    assert generation_notify(started.pk) == "sent"

    assert edits(fake_telegram) == ["🎨 Nano Banana: generating…", "✅ Nano Banana: done"]
    assert {int(call["message_id"]) for call in fake_telegram.calls_to("editMessageText")} == {status_id}
    (photo,) = fake_telegram.calls_to("sendPhoto")
    assert photo["caption"] == "a red fox in the snow"
    assert [c.method for c in fake_telegram.calls][-2:] == ["editMessageText", "sendPhoto"]  # done, then the result


def test_a_fast_generation_goes_straight_to_done_with_one_edit(started, fake_telegram):
    generation_claim(generation_id=started.pk)
    result_store_and_complete(started)

    assert generation_notify(started.pk) == "sent"
    assert generation_progress(started.pk) == "up_to_date"  # the claim's task, late

    assert edits(fake_telegram) == ["✅ Nano Banana: done"]


def test_a_failure_is_told_in_the_status_message_only(started, fake_telegram, owner, audit_passes):
    generation_claim(generation_id=started.pk)
    generation_fail(generation_id=started.pk, error_code="PROVIDER_ERROR",
                    error_message="The generation service could not create this result.")

    assert generation_notify(started.pk) == "skipped"

    assert edits(fake_telegram) == [
        "❌ Nano Banana: failed. The generation service could not create this result.\n"
        "10 credits returned to your balance."
    ]
    assert len(fake_telegram.calls_to("sendMessage")) == 1  # the status message itself, nothing more
    owner.refresh_from_db()
    assert owner.credits == 10


def test_a_cancel_in_the_app_shows_in_the_chat(started, fake_telegram):
    generation_cancel_if_active(generation_id=started.pk)

    assert generation_notify(started.pk) == "skipped"

    assert edits(fake_telegram) == ["🚫 Nano Banana: cancelled\n10 credits returned to your balance."]


def test_a_failure_without_a_status_message_is_sent_as_a_message(feed, updates, fake_telegram, owner,
                                                                 owner_profile):
    credits_give(owner, 10)
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)
    feed(updates.text(owner_profile, "a red fox"))
    generation = Generation.objects.get(user=owner)
    generation_fail(generation_id=generation.pk, error_code="PROVIDER_ERROR", error_message="It broke.")

    assert generation_notify(generation.pk) == "sent"

    assert fake_telegram.last("sendMessage")["text"].startswith("Your generation failed: It broke.")
    assert not fake_telegram.calls_to("editMessageText")


def test_429_waits_for_retry_after_and_nobody_edits_before(started, fake_telegram):
    fake_telegram.rate_limit("editMessageText", retry_after=3600)
    generation_claim(generation_id=started.pk)

    before = timezone.now()
    assert generation_progress(started.pk) == "retry_scheduled"
    (retry,) = scheduled(PROGRESS)
    assert retry.next_run >= before + timedelta(seconds=3600)

    # The generation finishes meanwhile: the result is sent, the message is left alone.
    result_store_and_complete(started)
    assert generation_notify(started.pk) == "sent"
    assert generation_progress(started.pk) == "busy"
    assert len(fake_telegram.calls_to("editMessageText")) == 1
    assert scheduled_run(PROGRESS) == []  # not due yet

    clock_forward(3600)
    assert scheduled_run(PROGRESS) == ["edited"]
    assert edits(fake_telegram) == ["🎨 Nano Banana: generating…", "✅ Nano Banana: done"]  # straight to the latest


def test_transient_errors_are_retried_a_bounded_number_of_times(started, fake_telegram, bot_settings):
    bot_settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS = 2
    fake_telegram.fail("editMessageText", error_code=502, description="Bad Gateway", times=None)
    generation_claim(generation_id=started.pk)

    assert generation_progress(started.pk) == "retry_scheduled"
    clock_forward(3600)
    assert scheduled_run(PROGRESS) == ["gave_up"]

    assert len(fake_telegram.calls_to("editMessageText")) == 2
    row = StatusMessage.objects.get(pk=started.pk)
    assert (row.shown, row.editing_until, row.attempts) == ("generating", None, 0)


def test_a_deleted_status_message_is_given_up_and_the_result_still_comes(started, fake_telegram):
    fake_telegram.fail("editMessageText", error_code=400, description="Bad Request: message to edit not found",
                       times=None)
    generation_claim(generation_id=started.pk)
    result_store_and_complete(started)

    assert generation_notify(started.pk) == "sent"

    assert len(fake_telegram.calls_to("editMessageText")) == 1
    assert len(fake_telegram.calls_to("sendPhoto")) == 1


def test_a_worker_that_moved_before_the_message_existed_is_caught_up(owner, fake_telegram, bot_settings):
    from telegram_bot.sending import Outgoing, bot_send
    from telegram_bot.services import chat_generation_start, status_message_sent

    credits_give(owner, 10)
    started = chat_generation_start(user=owner, chat_id=owner.telegram_id, prompt="a fox", idempotency_key="k1")
    generation_claim(generation_id=started.generation_id)
    assert generation_progress(started.generation_id) == "no_message"  # the claim's task, too early

    message = bot_send(Outgoing(chat_id=owner.telegram_id, text=started.status_text))
    status_message_sent(generation_id=started.generation_id, message_id=message.message_id)

    assert len(queued(PROGRESS)) == 1
    assert queued_run(PROGRESS) == ["edited"]
    assert edits(fake_telegram) == ["🎨 Nano Banana: generating…"]


def test_a_claim_hands_the_bot_a_progress_task(started, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        generation_claim(generation_id=started.pk)

    (task,) = queued(PROGRESS)
    assert (task["args"], task["name"]) == ((started.pk,), f"progress-{started.pk}")


@pytest.mark.django_db(transaction=True)
def test_two_tasks_at_once_make_one_edit(owner, fake_telegram, bot_settings):
    from telegram_bot.sending import Outgoing, bot_send
    from telegram_bot.services import chat_generation_start, status_message_sent

    credits_give(owner, 10)
    started = chat_generation_start(user=owner, chat_id=owner.telegram_id, prompt="a fox", idempotency_key="k2")
    message = bot_send(Outgoing(chat_id=owner.telegram_id, text=started.status_text))
    generation_claim(generation_id=started.generation_id)
    status_message_sent(generation_id=started.generation_id, message_id=message.message_id)

    outcomes = run_in_threads(4, lambda i: generation_progress(started.generation_id))

    assert outcomes.count("edited") == 1
    assert set(outcomes) <= {"edited", "busy", "up_to_date"}
    assert edits(fake_telegram) == ["🎨 Nano Banana: generating…"]
