"""A photo sent to the bot: with a caption it is edited (its largest size downloaded
with getFile and the file route, under the upload limits), without one the bot asks
what to do and the next text uses it. The bot records the photo; the worker
downloads it and starts the generation (`album_finish`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from generations.models import Generation, Upload
from telegram_bot.models import BotChat, ChatAlbum, StatusMessage
from tests.helpers import credits_give
from tests.telegram_bot.helpers import generation_charges, png_bytes
from tests.telegram_bot.queue import queued, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("photo_catalog")]

FINISH = "telegram_bot.tasks.album_finish"
PRICE = 10  # nano-banana


@pytest.fixture
def feed_committed(feed, django_capture_on_commit_callbacks):
    """`feed`, with what the handlers hand over on commit (the worker's task) enqueued."""

    def run(*raw_updates):
        with django_capture_on_commit_callbacks(execute=True):
            feed(*raw_updates)

    return run



def test_a_photo_with_a_caption_is_edited_with_its_largest_size(feed_committed, updates, fake_telegram, owner,
                                                                owner_profile, audit_passes):
    credits_give(owner, 25)
    file_id = fake_telegram.client.add_file(png_bytes((40, 30)))
    photo = updates.photo(owner_profile, file_id, caption="make it a watercolour")

    feed_committed(photo)

    assert not Generation.objects.exists()  # the bot only recorded it
    assert not fake_telegram.calls_to("getFile")
    assert queued_run(FINISH) == ["started"]
    (get_file,) = fake_telegram.calls_to("getFile")
    assert get_file["file_id"] == file_id  # the largest size, not a thumbnail
    generation = Generation.objects.get(user=owner)
    assert (generation.model.slug, generation.prompt, generation.status) == ("nano-banana", "make it a watercolour",
                                                                             "pending")
    assert generation.idempotency_key == f"tg:msg:{owner.telegram_id}:{photo['message']['message_id']}"
    (image,) = generation.images
    upload = Upload.objects.get(pk=image["upload"])
    assert (upload.user_id, upload.width, upload.height, upload.content_type) == (owner.pk, 40, 30, "image/png")
    assert generation_charges(owner) == 1
    (status,) = fake_telegram.calls_to("sendMessage")
    assert status["text"] == "⏳ Nano Banana: queued (10 credits)"
    row = StatusMessage.objects.get(pk=generation.pk)
    assert fake_telegram.client.message(owner.telegram_id, row.message_id)["text"] == status["text"]


def test_an_image_sent_as_a_file_is_edited_too(feed_committed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 25)
    file_id = fake_telegram.client.add_file(png_bytes((12, 12)), extension="png")

    feed_committed(updates.document(owner_profile, file_id, caption="add a hat"))

    assert queued_run(FINISH) == ["started"]
    assert Generation.objects.get(user=owner).prompt == "add a hat"


def test_a_file_that_is_no_image_is_not_taken(feed_committed, updates, fake_telegram, owner, owner_profile):
    feed_committed(updates.document(owner_profile, "BQACAgIAAxkBAAIB", mime_type="application/pdf",
                                    file_name="cv.pdf", caption="make it pretty"))

    assert not ChatAlbum.objects.exists() and not queued(FINISH)
    assert fake_telegram.last("sendMessage")["text"].startswith("Describe what you want")  # the catch-all


def test_the_same_photo_delivered_again_is_taken_once(feed_committed, updates, fake_telegram, owner, owner_profile,
                                                      audit_passes):
    credits_give(owner, 100)
    photo = updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="a hat")
    again = {**photo, "update_id": photo["update_id"] + 500}  # the same message in another update

    feed_committed(photo, again)
    queued_run(FINISH)
    feed_committed(again | {"update_id": photo["update_id"] + 501})

    assert queued(FINISH) == []
    assert Generation.objects.filter(user=owner).count() == 1
    assert generation_charges(owner) == 1
    assert len(fake_telegram.calls_to("getFile")) == 1
    assert len(fake_telegram.calls_to("sendMessage")) == 1


def test_a_photo_over_the_upload_limit_is_refused_unread_in_the_users_language(
        feed_committed, updates, fake_telegram, owner, owner_profile, bot_settings, audit_passes):
    bot_settings.UPLOAD_MAX_BYTES = 1000
    owner_profile["language_code"] = "ru"
    credits_give(owner, 100)
    file_id = fake_telegram.client.add_file(png_bytes())

    feed_committed(updates.photo(owner_profile, file_id, caption="шляпа", file_size=5000))

    assert queued_run(FINISH) == ["refused"]
    assert not fake_telegram.calls_to("getFile")
    assert not Generation.objects.exists()
    assert fake_telegram.last("sendMessage")["text"].startswith("Это фото нельзя использовать: ")
    assert ChatAlbum.objects.get().status == "refused"


def test_a_file_that_turns_out_larger_than_announced_is_refused(feed_committed, updates, fake_telegram, owner,
                                                                owner_profile, bot_settings):
    bot_settings.UPLOAD_MAX_BYTES = 1000
    credits_give(owner, 100)
    file_id = fake_telegram.client.add_file(png_bytes((300, 300)) + b"\0" * 2000)

    feed_committed(updates.photo(owner_profile, file_id, caption="a hat"))  # no file_size in the update

    assert queued_run(FINISH) == ["refused"]
    assert fake_telegram.last("sendMessage")["text"] == (
        "This photo cannot be used: The file is too large: at most 0.000953674 MB.")


def test_bytes_that_are_no_picture_are_refused(feed_committed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 100)
    file_id = fake_telegram.client.add_file(b"GIF89a not really a picture")

    feed_committed(updates.photo(owner_profile, file_id, caption="a hat"))

    assert queued_run(FINISH) == ["refused"]
    assert fake_telegram.last("sendMessage")["text"] == (
        "This photo cannot be used: Upload a JPEG, PNG or WebP image.")
    assert not Upload.objects.exists()


def test_without_credits_the_edit_is_refused_with_the_shop(feed_committed, updates, fake_telegram, owner,
                                                           owner_profile, packs):
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="a hat"))

    assert queued_run(FINISH) == ["refused"]
    reply = fake_telegram.last("sendMessage")
    assert reply["text"].startswith("Not enough credits: this costs 10 credits")
    assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "shop"


def test_a_banned_users_photo_is_not_even_downloaded(feed_committed, updates, fake_telegram, owner, owner_profile):
    User.objects.filter(pk=owner.pk).update(is_banned=True)

    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="a hat"))

    assert queued_run(FINISH) == ["refused"]
    assert not fake_telegram.calls_to("getFile")
    assert fake_telegram.last("sendMessage")["text"] == "Your account is banned."


def test_the_users_model_is_used_when_it_takes_images_else_the_first_that_does(
        feed_committed, updates, fake_telegram, owner, owner_profile, photo_catalog):
    credits_give(owner, 200)
    BotChat.objects.create(user=owner, model=photo_catalog["flux-schnell"])  # takes no images

    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="a hat"))
    queued_run(FINISH)
    BotChat.objects.filter(user=owner).update(model=photo_catalog["kling-master"])  # animates an image
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="waves"))
    queued_run(FINISH)

    assert [g.model.slug for g in Generation.objects.filter(user=owner).order_by("pk")] == ["nano-banana",
                                                                                         "kling-master"]


# --- a photo without a caption waits for the next text -----------------------------------------------


def test_a_photo_without_a_caption_asks_and_the_next_text_uses_it(feed_committed, updates, fake_telegram, owner,
                                                                  owner_profile, audit_passes):
    credits_give(owner, 100)

    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes((20, 10)))))

    assert queued_run(FINISH) == ["asked"]
    assert fake_telegram.last("sendMessage")["text"] == (
        "Got your photo. Now send me what to change, in one message (for example: “make it a watercolour”).")
    assert not Generation.objects.exists()
    chat = BotChat.objects.get(user=owner)
    assert len(chat.pending_images) == 1
    assert chat.pending_until is not None and chat.pending_until > timezone.now()

    text = updates.text(owner_profile, "make it a watercolour")
    feed_committed(text, text | {"update_id": text["update_id"] + 1000})  # and processed again: one start

    generation = Generation.objects.get(user=owner)
    assert (generation.prompt, generation.model.slug) == ("make it a watercolour", "nano-banana")
    assert [image["upload"] for image in generation.images] == chat.pending_images
    assert generation.idempotency_key == f"tg:msg:{owner.telegram_id}:{text['message']['message_id']}"
    assert BotChat.objects.get(user=owner).pending_images == []
    assert generation_charges(owner) == 1

    # The photo is used once: the text after that draws from the text alone.
    feed_committed(updates.text(owner_profile, "a lighthouse"))
    assert Generation.objects.filter(user=owner).latest("pk").images == []


def test_a_refused_start_keeps_the_photo_waiting(feed_committed, updates, fake_telegram, owner, owner_profile):
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes())))
    queued_run(FINISH)

    feed_committed(updates.text(owner_profile, "a hat"))  # no credits yet
    assert fake_telegram.last("sendMessage")["text"].startswith("Not enough credits")
    credits_give(owner, 100)
    feed_committed(updates.text(owner_profile, "a hat"))

    assert len(Generation.objects.get(user=owner).images) == 1


def test_a_photo_waits_only_so_long(feed_committed, updates, fake_telegram, owner, owner_profile):
    from telegram_bot.tasks import chat_inputs_sweep

    credits_give(owner, 100)
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes())))
    queued_run(FINISH)
    BotChat.objects.filter(user=owner).update(pending_until=timezone.now() - timedelta(seconds=1))

    feed_committed(updates.text(owner_profile, "a lighthouse"))
    assert Generation.objects.get(user=owner).images == []  # drawn from the text alone
    assert chat_inputs_sweep()["expired"] == 1
    assert BotChat.objects.get(user=owner).pending_until is None


def test_a_new_photo_replaces_the_waiting_one(feed_committed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 100)
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes((10, 10)))))
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes((30, 10)))))
    assert queued_run(FINISH) == ["asked", "asked"]

    feed_committed(updates.text(owner_profile, "a hat"))

    (image,) = Generation.objects.get(user=owner).images
    assert Upload.objects.get(pk=image["upload"]).width == 30


# --- Telegram's errors ------------------------------------------------------------------------------


def test_a_transient_getfile_error_is_retried_later(feed_committed, updates, fake_telegram, owner, owner_profile,
                                                    audit_passes):
    from telegram_bot.tasks import chat_inputs_sweep

    credits_give(owner, 100)
    fake_telegram.fail("getFile", error_code=502, description="Bad Gateway")
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="a hat"))

    assert queued_run(FINISH) == ["retry_later"]
    album = ChatAlbum.objects.get()
    assert (album.status, album.attempts) == ("collecting", 1)
    assert album.due_at > timezone.now()
    assert chat_inputs_sweep()["enqueued"] == 0  # not due yet
    ChatAlbum.objects.update(due_at=timezone.now())
    assert chat_inputs_sweep()["enqueued"] == 1

    assert queued_run(FINISH) == ["started"]
    assert Generation.objects.filter(user=owner).count() == 1


def test_a_file_telegram_will_not_give_is_refused(feed_committed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 100)

    feed_committed(updates.photo(owner_profile, "AgACAgIAAxkBAAIunknown", caption="a hat"))

    assert queued_run(FINISH) == ["refused"]
    assert fake_telegram.last("sendMessage")["text"] == (
        "This photo cannot be used: Telegram could not give me this file.")


def test_the_status_message_lost_leaves_the_generation_running(feed_committed, updates, fake_telegram, owner,
                                                              owner_profile, audit_passes):
    credits_give(owner, 100)
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error")
    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes()), caption="a hat"))

    assert queued_run(FINISH) == ["started"]

    generation = Generation.objects.get(user=owner)
    assert StatusMessage.objects.get(pk=generation.pk).message_id is None
    assert generation_charges(owner) == 1


def test_with_a_local_bot_api_server_the_photo_is_read_from_its_disk(feed_committed, updates, fake_telegram, owner,
                                                                     owner_profile, bot_settings, tmp_path):
    bot_settings.TELEGRAM_API_LOCAL = True
    fake_telegram.client.local_mode(tmp_path / "telegram-bot-api")  # no file route: only the path works
    credits_give(owner, 100)

    feed_committed(updates.photo(owner_profile, fake_telegram.client.add_file(png_bytes((33, 9))), caption="a hat"))

    assert queued_run(FINISH) == ["started"]
    (image,) = Generation.objects.get(user=owner).images
    assert Upload.objects.get(pk=image["upload"]).width == 33
