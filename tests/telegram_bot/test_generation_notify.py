"""A finished generation is sent to its user once: the result with the prompt as
caption and the buttons under it, or the failure and the refund."""

import pytest

from accounts.models import User
from telegram_bot.models import GenerationNotification
from telegram_bot.tasks import generation_notify
from tests.fakes.telegram import FakeFile
from tests.telegram_bot.helpers import MINI_APP_URL, generation_finished, gif_bytes, png_bytes

pytestmark = pytest.mark.django_db

OPEN_APP = {"inline_keyboard": [[{"text": "Open NanoGen", "web_app": {"url": MINI_APP_URL}}]]}


def result_buttons(generation_id: int) -> dict:
    """Under a picture: Again and File, then Edit and Animate."""
    return {"inline_keyboard": [[{"text": "🔁 Again", "callback_data": f"r:a:{generation_id}:0"},
                                 {"text": "📎 File", "callback_data": f"r:f:{generation_id}:0"}],
                                [{"text": "✏️ Edit", "callback_data": f"r:e:{generation_id}:0"},
                                 {"text": "🎬 Animate", "callback_data": f"r:v:{generation_id}:0"}]]}


def test_a_completed_image_is_one_photo_with_the_prompt_as_caption(owner, bot_settings, fake_telegram, audit_passes):
    image = png_bytes((16, 9))
    generation = generation_finished(owner, prompt="a lighthouse in a storm", data=image)

    assert generation_notify(generation.pk) == "sent"

    (call,) = fake_telegram.calls_to("sendPhoto")
    assert int(call["chat_id"]) == owner.telegram_id
    assert call["caption"] == "a lighthouse in a storm"
    assert isinstance(call["photo"], FakeFile) and call["photo"].content == image
    assert call["reply_markup"] == result_buttons(generation.pk)
    notification = GenerationNotification.objects.get(pk=generation.pk)
    assert (notification.status, notification.method, notification.attempts) == ("sent", "sendPhoto", 1)
    assert notification.telegram_message_id and notification.sent_at


def test_the_task_delivered_twice_sends_once(owner, bot_settings, fake_telegram):
    generation = generation_finished(owner)

    assert [generation_notify(generation.pk), generation_notify(generation.pk)] == ["sent", "not_mine"]

    assert len(fake_telegram.calls_to("sendPhoto")) == 1
    assert [c.method for c in fake_telegram.calls] == ["sendPhoto"]  # no getMe either


def test_a_failed_generation_says_so_and_that_the_credits_came_back(owner, bot_settings, fake_telegram, audit_passes):
    generation = generation_finished(owner, status="failed", prompt="a cat")

    assert generation_notify(generation.pk) == "sent"

    (call,) = fake_telegram.calls_to("sendMessage")
    assert int(call["chat_id"]) == owner.telegram_id
    assert call["text"] == (
        "Your generation failed: The generation service could not create this result.\n"
        "10 credits returned to your balance.\n\nPrompt: a cat"
    )
    assert not fake_telegram.calls_to("sendPhoto")


def test_the_failure_is_told_in_russian_to_a_russian_user(owner, bot_settings, fake_telegram):
    User.objects.filter(pk=owner.pk).update(language_code="ru")
    generation = generation_finished(owner, status="failed", prompt="кот")

    generation_notify(generation.pk)

    text = fake_telegram.last("sendMessage")["text"]
    assert text.startswith("Генерация не удалась")
    assert "баланс возвращено: 10 кредитов." in text
    assert fake_telegram.last("sendMessage")["reply_markup"]["inline_keyboard"][0][0]["text"] == "Открыть NanoGen"


def test_a_cancelled_generation_sends_nothing(owner, bot_settings, fake_telegram):
    generation = generation_finished(owner, status="cancelled")

    assert generation_notify(generation.pk) == "skipped"

    assert not fake_telegram.calls
    notification = GenerationNotification.objects.get(pk=generation.pk)
    assert (notification.status, notification.detail) == ("skipped", "cancelled by the user")


def test_a_gif_is_sent_as_an_animation(owner, bot_settings, fake_telegram):
    animation = gif_bytes()
    generation = generation_finished(owner, content_type="image/gif", data=animation)

    generation_notify(generation.pk)

    (call,) = fake_telegram.calls_to("sendAnimation")
    assert call["animation"].content == animation and call["caption"] == generation.prompt


def test_a_video_is_sent_as_a_video(owner, bot_settings, fake_telegram):
    generation = generation_finished(owner, content_type="video/mp4", data=b"\x00\x00\x00\x18ftypmp42 not really")

    generation_notify(generation.pk)

    (call,) = fake_telegram.calls_to("sendVideo")
    assert int(call["chat_id"]) == owner.telegram_id and call["video"].filename.endswith(".mp4")


def test_a_photo_telegram_refuses_is_sent_as_a_document(owner, bot_settings, fake_telegram):
    fake_telegram.fail("sendPhoto", error_code=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
    generation = generation_finished(owner)

    assert generation_notify(generation.pk) == "sent"

    (call,) = fake_telegram.calls_to("sendDocument")
    assert call["document"].content == png_bytes() and call["caption"] == generation.prompt
    assert GenerationNotification.objects.get(pk=generation.pk).method == "sendDocument"


def test_a_long_prompt_is_cut_to_telegrams_caption_limit(owner, bot_settings, fake_telegram):
    prompt = "🦊" * 600 + " in the snow"  # each fox is 2 UTF-16 units: Telegram counts those
    generation = generation_finished(owner, prompt=prompt)

    generation_notify(generation.pk)

    caption = fake_telegram.last("sendPhoto")["caption"]
    assert len(caption.encode("utf-16-le")) // 2 <= 1024
    assert caption.endswith("…") and caption.startswith("🦊🦊")


def test_a_result_that_is_gone_from_storage_still_tells_the_user(owner, bot_settings, fake_telegram):
    from django.core.files.storage import default_storage

    generation = generation_finished(owner)
    default_storage.delete(generation.result_file.name)

    assert generation_notify(generation.pk) == "sent"

    assert not fake_telegram.calls_to("sendPhoto")
    assert fake_telegram.last("sendMessage")["text"].startswith("Your generation is ready: open it in the app.")


def test_without_an_https_mini_app_there_is_no_app_button(owner, bot_settings, fake_telegram):
    bot_settings.MINI_APP_URL = "http://127.0.0.1:8000/"
    generation = generation_finished(owner, status="failed")

    generation_notify(generation.pk)

    assert fake_telegram.last("sendMessage").get("reply_markup") is None


def test_an_unknown_or_unfinished_generation_is_left_alone(owner, bot_settings, fake_telegram):
    from generations.services import generation_start
    from tests.factories import AIModelFactory
    from tests.helpers import credits_give

    model = AIModelFactory.create(price=10)
    credits_give(owner, 10)
    pending = generation_start(user=owner, model_slug=model.slug, prompt="still running")

    assert generation_notify(pending.pk) == "not_mine"
    assert generation_notify(987654) == "not_mine"
    assert not fake_telegram.calls and not GenerationNotification.objects.exists()
