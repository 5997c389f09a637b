"""Edit and Animate under a result: Edit makes the result the user's upload and the
next text edits it; Animate starts an image-to-video generation of it at once. A
double tap does it once, somebody else's tap or a deleted generation does nothing
but say so, every callback query is answered."""

import pytest

from accounts.models import CreditLedgerEntry
from generations.models import AIModel, Generation, Upload
from telegram_bot.models import BotChat, GenerationNotification
from telegram_bot.tasks import generation_notify
from tests.fakes.telegram_updates import telegram_profile
from tests.helpers import STRANGER_TELEGRAM_ID, credits_give, run_in_threads
from tests.telegram_bot.helpers import generation_charges, generation_finished, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("photo_catalog")]

EDIT_QUESTION = "✏️ Send me what to change in this picture, in one message."


@pytest.fixture
def delivered(owner, bot_settings, fake_telegram) -> tuple[Generation, dict]:
    """A completed picture of the owner, sent to them: (generation, the photo message)."""
    generation = generation_finished(owner, prompt="a red fox in the snow", data=png_bytes((24, 16)))
    assert generation_notify(generation.pk) == "sent"
    notification = GenerationNotification.objects.get(pk=generation.pk)
    return generation, fake_telegram.client.message(owner.telegram_id, notification.telegram_message_id)


def answers(fake_telegram) -> list[tuple[str | None, bool]]:
    return [(call.get("text"), call.get("show_alert") in (True, "true"))
            for call in fake_telegram.calls_to("answerCallbackQuery")]


def texts(fake_telegram) -> list[str]:
    return [call["text"] for call in fake_telegram.calls_to("sendMessage")]



def test_edit_asks_once_and_the_next_text_edits_the_result(feed, updates, fake_telegram, owner, owner_profile,
                                                           delivered, audit_passes):
    generation, photo = delivered
    credits_give(owner, 30)
    taps = [updates.callback(owner_profile, f"r:e:{generation.pk}:0", message=photo) for _ in range(2)]

    feed(*taps)

    assert texts(fake_telegram) == [EDIT_QUESTION]
    assert answers(fake_telegram) == [(None, False), (None, False)]
    (upload_id,) = BotChat.objects.get(user=owner).pending_images
    upload = Upload.objects.get(pk=upload_id)
    assert (upload.user_id, upload.width, upload.height) == (owner.pk, 24, 16)

    feed(updates.text(owner_profile, "give it a scarf"))

    edit = Generation.objects.exclude(pk=generation.pk).get(user=owner)
    assert (edit.prompt, edit.model.slug, [i["upload"] for i in edit.images]) == ("give it a scarf", "nano-banana",
                                                                                  [upload_id])
    assert generation_charges(owner) == 2  # the original and the edit


def test_edit_uses_an_image_model_even_when_the_users_model_animates(feed, updates, fake_telegram, owner,
                                                                     owner_profile, delivered, photo_catalog):
    generation, photo = delivered
    credits_give(owner, 30)
    BotChat.objects.create(user=owner, model=photo_catalog["kling-master"])

    feed(updates.callback(owner_profile, f"r:e:{generation.pk}:0", message=photo),
         updates.text(owner_profile, "give it a scarf"))

    assert Generation.objects.exclude(pk=generation.pk).get(user=owner).model.slug == "nano-banana"


def test_animate_starts_an_image_to_video_generation_once_per_button(feed, updates, fake_telegram, owner,
                                                                    owner_profile, delivered, audit_passes):
    generation, photo = delivered
    credits_give(owner, 100)
    taps = [updates.callback(owner_profile, f"r:v:{generation.pk}:0", message=photo) for _ in range(2)]

    feed(*taps)

    video = Generation.objects.exclude(pk=generation.pk).get(user=owner)
    assert (video.model.slug, video.kind, video.prompt) == ("kling-master", "video", "")  # its prompt is optional
    (image,) = video.images
    assert Upload.objects.get(pk=image["upload"]).width == 24
    assert generation_charges(owner) == 2
    assert answers(fake_telegram) == [("Started: the result comes in this chat.", False),
                                      ("Already started from this button: the result comes in this chat.", False)]
    assert texts(fake_telegram) == ["⏳ Kling 2.1 Master: queued (50 credits)"]
    assert Upload.objects.filter(user=owner).count() == 1  # the repeat made no second upload


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_on_animate_at_the_same_moment_starts_one(feed, updates, fake_telegram, owner, owner_profile,
                                                               delivered, audit_passes):
    generation, photo = delivered
    credits_give(owner, 100)
    taps = [updates.callback(owner_profile, f"r:v:{generation.pk}:0", message=photo) for _ in range(2)]

    run_in_threads(2, lambda i: feed(taps[i]))

    assert Generation.objects.filter(user=owner, kind="video").count() == 1
    assert generation_charges(owner) == 2
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 2


def test_animate_with_a_prompt_when_the_model_needs_one(feed, updates, fake_telegram, owner, owner_profile,
                                                       delivered):
    generation, photo = delivered
    credits_give(owner, 100)
    AIModel.objects.filter(slug="kling-master").update(prompt_optional_with_images=False)

    feed(updates.callback(owner_profile, f"r:v:{generation.pk}:0", message=photo))

    assert Generation.objects.get(user=owner, kind="video").prompt == "a red fox in the snow"


def test_without_a_model_that_animates_the_user_is_told(feed, updates, fake_telegram, owner, owner_profile,
                                                        delivered):
    generation, photo = delivered
    credits_give(owner, 100)
    AIModel.objects.filter(kind="video").update(is_active=False)

    feed(updates.callback(owner_profile, f"r:v:{generation.pk}:0", message=photo))

    assert not Generation.objects.filter(kind="video").exists()
    assert texts(fake_telegram) == ["No model can do this with pictures right now. Please try again later."]
    assert answers(fake_telegram) == [(None, False)]


def test_animate_without_credits_offers_the_shop(feed, updates, fake_telegram, owner_profile, delivered):
    generation, photo = delivered

    feed(updates.callback(owner_profile, f"r:v:{generation.pk}:0", message=photo))

    refusal = fake_telegram.last("sendMessage")
    assert refusal["text"] == "Not enough credits: this costs 50 credits, your balance is 0 credits. Top up with /buy."
    assert refusal["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "shop"


def test_somebody_elses_edit_and_animate_do_nothing_but_say_so(feed, updates, fake_telegram, delivered, stranger):
    generation, photo = delivered
    intruder = telegram_profile(STRANGER_TELEGRAM_ID, first_name="Stranger")
    credits_give(stranger, 100)

    feed(updates.callback(intruder, f"r:e:{generation.pk}:0", message=photo),
         updates.callback(intruder, f"r:v:{generation.pk}:0", message=photo))

    assert Generation.objects.count() == 1 and not Upload.objects.exists()
    assert not BotChat.objects.filter(user=stranger).exclude(pending_images=[]).exists()
    assert answers(fake_telegram) == [("This button belongs to somebody else's result.", True)] * 2
    assert texts(fake_telegram) == []


def test_edit_and_animate_of_a_deleted_generation_say_so(feed, updates, fake_telegram, owner_profile, delivered):
    generation, photo = delivered
    CreditLedgerEntry.objects.filter(reference=f"generation:{generation.pk}").delete()
    Generation.objects.filter(pk=generation.pk).delete()

    feed(updates.callback(owner_profile, f"r:e:{generation.pk}:0", message=photo),
         updates.callback(owner_profile, f"r:v:{generation.pk}:0", message=photo))

    assert answers(fake_telegram) == [("This result no longer exists.", True)] * 2


def test_a_result_that_is_no_picture_cannot_be_edited(feed, updates, fake_telegram, owner, owner_profile,
                                                      bot_settings):
    from tests.telegram_bot.helpers import gif_bytes

    video = generation_finished(owner, content_type="image/gif", data=gif_bytes())
    credits_give(owner, 100)
    message = {"message_id": 99, "date": 0, "chat": {"id": owner.telegram_id, "type": "private"}, "text": "x"}

    feed(updates.callback(owner_profile, f"r:e:{video.pk}:0", message=message),
         updates.callback(owner_profile, f"r:v:{video.pk}:0", message=message))

    assert texts(fake_telegram) == ["Only a picture can be used: this result is a video or an animation."] * 2
    assert Generation.objects.count() == 1
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 2


def test_a_result_whose_file_is_gone_says_so(feed, updates, fake_telegram, owner_profile, delivered):
    from django.core.files.storage import default_storage

    generation, photo = delivered
    default_storage.delete(generation.result_file.name)

    feed(updates.callback(owner_profile, f"r:e:{generation.pk}:0", message=photo))

    assert texts(fake_telegram) == ["This result is no longer stored."]
    assert answers(fake_telegram) == [(None, False)]


def test_edit_is_answered_in_russian(feed, updates, fake_telegram, owner, owner_profile, delivered):
    generation, photo = delivered
    owner_profile["language_code"] = "ru"

    feed(updates.callback(owner_profile, f"r:e:{generation.pk}:0", message=photo))

    assert texts(fake_telegram) == ["✏️ Напишите одним сообщением, что изменить на этой картинке."]


def test_a_refused_result_is_told_in_russian(feed, updates, fake_telegram, owner, owner_profile, bot_settings):
    from tests.telegram_bot.helpers import gif_bytes

    owner_profile["language_code"] = "ru"
    video = generation_finished(owner, content_type="image/gif", data=gif_bytes())
    message = {"message_id": 99, "date": 0, "chat": {"id": owner.telegram_id, "type": "private"}, "text": "x"}

    feed(updates.callback(owner_profile, f"r:v:{video.pk}:0", message=message))

    assert texts(fake_telegram) == ["Подойдёт только изображение, а этот результат — видео или анимация."]  # noqa: RUF001
