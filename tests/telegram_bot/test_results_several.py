"""A generation with several results (`num_images`), run through the real worker
step (the demo provider), which notifies the user in the same task: one album
(sendMediaGroup) of every result, then the buttons message (Again, Files, and Edit
and Animate numbered per picture), and the buttons act on the right result."""

import pytest

from generations.models import AIModel, Generation, Upload
from generations.services import generation_start
from generations.tasks import generation_run
from telegram_bot.models import BotChat, GenerationNotification, ResultMessage
from tests.helpers import credits_give
from tests.telegram_bot.queue import queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("photo_catalog")]

NOTIFY = "telegram_bot.tasks.generation_notify"
NUM_IMAGES = {"type": "integer", "min": 1, "max": 4, "default": 1}


@pytest.fixture
def three_results(owner, bot_settings, fake_telegram, django_capture_on_commit_callbacks) -> Generation:
    """nano-banana asked for three pictures (as the Mini App does), run by the worker and notified."""
    AIModel.objects.filter(slug="nano-banana").update(params_schema={"num_images": NUM_IMAGES}, price_rule={
        "base": 10, "factors": {"num_images": "value"}})
    credits_give(owner, 30)
    with django_capture_on_commit_callbacks(execute=True):
        generation = generation_start(user=owner, model_slug="nano-banana", prompt="three foxes",
                                      params={"num_images": 3})
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_run(generation.pk) == "completed"
    # Notified by the step itself: no notification task was left in the queue.
    assert queued_run(NOTIFY) == []
    assert GenerationNotification.objects.get(pk=generation.pk).status == GenerationNotification.Status.SENT
    return Generation.objects.get(pk=generation.pk)


def test_several_results_are_one_album_then_the_buttons(three_results, owner, fake_telegram, audit_passes):
    generation = three_results
    results = generation.result_files()
    assert len(results) == 3 and generation.credits_charged == 30

    (album,) = fake_telegram.calls_to("sendMediaGroup")
    assert int(album["chat_id"]) == owner.telegram_id
    assert [item["type"] for item in album["media"]] == ["photo"] * 3
    assert [item.get("caption") for item in album["media"]] == ["three foxes", None, None]
    uploads = [album[item["media"].removeprefix("attach://")].content for item in album["media"]]
    for upload, result in zip(uploads, results, strict=True):
        with generation.result_file.storage.open(result.name, "rb") as stored:
            assert upload == stored.read()
    assert len(set(uploads)) == 3

    (buttons,) = fake_telegram.calls_to("sendMessage")
    assert buttons["text"] == "Your 3 results are above.\n✏️ n: your next message edits picture n. 🎬 n: animates it."
    keyboard = [[button["callback_data"] for button in row] for row in buttons["reply_markup"]["inline_keyboard"]]
    pk = generation.pk
    assert keyboard == [[f"r:a:{pk}", f"r:f:{pk}"], [f"r:e:{pk}:0", f"r:e:{pk}:1", f"r:e:{pk}:2"],
                        [f"r:v:{pk}:0", f"r:v:{pk}:1", f"r:v:{pk}:2"]]
    assert not fake_telegram.calls_to("sendPhoto")

    notification = GenerationNotification.objects.get(pk=pk)
    assert (notification.status, notification.method, notification.parts_sent) == ("sent", "sendMediaGroup", 2)
    assert list(ResultMessage.objects.filter(generation=generation).values_list("position", "kind")) == [
        (0, "photo"), (1, "photo"), (2, "photo")]


def pixels(storage_name: str) -> bytes:
    from django.core.files.storage import default_storage
    from PIL import Image

    with default_storage.open(storage_name, "rb") as stored, Image.open(stored) as picture:
        return picture.convert("RGB").tobytes()


def test_the_numbered_edit_takes_that_result(three_results, feed, updates, fake_telegram, owner, owner_profile):
    generation = three_results
    message = {"message_id": 50, "date": 0, "chat": {"id": owner.telegram_id, "type": "private"}, "text": "x"}

    feed(updates.callback(owner_profile, f"r:e:{generation.pk}:1", message=message))

    (upload_id,) = BotChat.objects.get(user=owner).pending_images
    edited = pixels(Upload.objects.get(pk=upload_id).file.name)
    results = [pixels(result.name) for result in generation.result_files()]
    assert edited == results[1] != results[0]


def test_files_sends_every_original(three_results, feed, updates, fake_telegram, owner, owner_profile):
    generation = three_results
    message = {"message_id": 50, "date": 0, "chat": {"id": owner.telegram_id, "type": "private"}, "text": "x"}

    feed(updates.callback(owner_profile, f"r:f:{generation.pk}", message=message))

    assert queued_run("telegram_bot.tasks.result_files_send") == ["sent"]
    assert len(fake_telegram.calls_to("sendDocument")) == 3
