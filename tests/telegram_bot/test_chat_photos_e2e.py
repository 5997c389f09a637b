"""End to end: `manage.py runbot` in webhook mode and a real `manage.py qcluster`, both
against the fake Bot API, the user sending photos: an album of three photos posted at
once (one edit with three inputs, one charge), a photo without a caption and then a
text, Edit and Animate under a result, a redelivered photo. The ledger audit is clean
after each step."""

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from generations.models import Generation, Upload
from telegram_bot.models import ChatAlbum, GenerationNotification, StatusMessage, TelegramUpdate
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.helpers import credits_give, run_in_threads
from tests.telegram_bot.helpers import generation_charges, png_bytes
from tests.telegram_bot.runbot import qcluster_for_chat, runbot_serving, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAIT = 60  # seconds: a worker on a busy machine


@pytest.fixture
def bot(tmp_path, fake_telegram):
    # The bot reads results from the media storage (Edit, Animate): the worker's.
    with runbot_serving(tmp_path, fake_telegram.base_url, TEST_MEDIA_ROOT=str(settings.MEDIA_ROOT)) as bot:
        yield bot


@pytest.fixture
def worker(tmp_path, fake_telegram):
    with qcluster_for_chat(tmp_path, fake_telegram.base_url) as process:
        yield process


def audit_clean() -> None:
    call_command("audit_ledger")  # exits non-zero (SystemExit) when a money rule is broken


def finished(count: int, user: Any) -> list[Generation]:
    """Wait until the user has `count` generations, all notified; them, oldest first."""

    def done() -> list[Generation] | None:
        generations = list(Generation.objects.filter(user=user).select_related("model", "user").order_by("pk"))
        notified = GenerationNotification.objects.filter(generation__in=generations, status="sent").count()
        return generations if len(generations) == count and notified == count else None

    return wait_until(done, seconds=WAIT, what=f"{count} generations finished and sent")


def result_message(fake_telegram, generation: Generation) -> dict[str, Any]:
    notification = GenerationNotification.objects.get(pk=generation.pk)
    return fake_telegram.client.message(generation.user.telegram_id, notification.telegram_message_id)


def widths(generation: Generation) -> list[int]:
    by_id = {str(u.pk): u.width for u in Upload.objects.filter(pk__in=[i["upload"] for i in generation.images])}
    return [by_id[image["upload"]] for image in generation.images]


def sent_texts(fake_telegram) -> list[str]:
    return [call["text"] for call in fake_telegram.calls_to("sendMessage")]


@pytest.mark.usefixtures("photo_catalog")
def test_photos_in_the_chat_end_to_end(bot, worker, fake_telegram, owner):
    updates = TelegramUpdates(first_update_id=800_001)
    profile = telegram_profile(owner.telegram_id, first_name="Owner")
    credits_give(owner, 200)

    # 1. An album of three photos, its updates posted at the same moment: ONE edit with
    #    the three photos in order, one charge, its status message, its result.
    files = [fake_telegram.client.add_file(png_bytes((20 + i, 16))) for i in range(3)]
    album = updates.album(profile, files, caption="the three of us on a beach", caption_on=1)
    statuses = run_in_threads(3, lambda i: bot.post(album[i]).status_code)
    assert statuses == [200, 200, 200]
    (edit,) = finished(1, owner)
    assert (edit.prompt, edit.model.slug, widths(edit)) == ("the three of us on a beach", "nano-banana", [20, 21, 22])
    assert generation_charges(owner) == 1
    assert len(fake_telegram.calls_to("getFile")) == 3
    wait_until(lambda: StatusMessage.objects.get(pk=edit.pk).shown == "done", what="the status message")
    assert sent_texts(fake_telegram)[0] == "⏳ Nano Banana: queued (10 credits)"
    audit_clean()

    # 2. The same photo again: the same update (dropped by its id), and the same message
    #    in another update (recognised by the album): nothing new.
    assert bot.post(album[0]).status_code == 200
    bot.wait_logged(f"update {album[0]['update_id']} delivered again: dropped")
    again = album[2] | {"update_id": 800_900}
    assert bot.post(again).status_code == 200
    wait_until(lambda: TelegramUpdate.objects.filter(pk=800_900, status="processed").exists(), what="the repeat")
    assert (Generation.objects.filter(user=owner).count(), generation_charges(owner)) == (1, 1)
    assert ChatAlbum.objects.get().status == "started"

    # 3. A photo without a caption: the bot asks; the next text edits it.
    assert bot.post(updates.photo(profile, fake_telegram.client.add_file(png_bytes((30, 16))))).status_code == 200
    wait_until(lambda: "Got your photo" in " ".join(sent_texts(fake_telegram)), seconds=WAIT, what="the question")
    assert bot.post(updates.text(profile, "make it a watercolour")).status_code == 200
    _, watercolour = finished(2, owner)
    assert (watercolour.prompt, widths(watercolour)) == ("make it a watercolour", [30])
    assert generation_charges(owner) == 2
    audit_clean()

    # 4. Edit under the watercolour: the bot asks, and the next text edits that result.
    photo_message = result_message(fake_telegram, watercolour)
    assert bot.post(updates.callback(profile, f"r:e:{watercolour.pk}:0", message=photo_message)).status_code == 200
    wait_until(lambda: "✏️ Send me what to change in this picture, in one message." in sent_texts(fake_telegram),
               seconds=WAIT, what="the Edit question")
    assert bot.post(updates.text(profile, "add a red scarf")).status_code == 200
    *_, scarf = finished(3, owner)
    assert (scarf.prompt, scarf.model.slug, len(scarf.images)) == ("add a red scarf", "nano-banana", 1)
    assert Upload.objects.get(pk=scarf.images[0]["upload"]).user_id == owner.pk
    audit_clean()

    # 5. Animate under the first edit, tapped twice: one image-to-video generation at once.
    photo_message = result_message(fake_telegram, edit)
    for _ in range(2):
        assert bot.post(updates.callback(profile, f"r:v:{edit.pk}:0", message=photo_message)).status_code == 200
    *_, video = finished(4, owner)
    assert (video.model.slug, video.kind, len(video.images)) == ("kling-master", "video", 1)
    fake_telegram.wait_for("sendAnimation", timeout=WAIT)  # the demo provider's video is an animated GIF
    fake_telegram.wait_for("answerCallbackQuery", count=3, timeout=WAIT)
    assert generation_charges(owner) == 4
    owner.refresh_from_db()
    assert owner.credits == 200 - 3 * 10 - 50
    audit_clean()
