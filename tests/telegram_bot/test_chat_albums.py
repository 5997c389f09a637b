"""An album sent to the bot (several updates with one media_group_id, arriving
separately, at the same time, in any process) makes ONE generation with all its
photos in order and ONE charge; too many photos for the model are refused, never
dropped; a photo that comes after the album was taken is told so."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from generations.models import Generation, Upload
from telegram_bot.models import ChatAlbum, ChatAlbumPhoto
from telegram_bot.services import album_finish
from tests.helpers import credits_give, run_in_threads
from tests.telegram_bot.helpers import generation_charges, png_bytes
from tests.telegram_bot.queue import queued, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("photo_catalog")]

GROUP = "13900000000000001"



def pictures(fake_telegram, count: int) -> list[str]:
    """`count` files of different widths (10, 11, 12...), so their order can be read back."""
    return [fake_telegram.client.add_file(png_bytes((10 + i, 8))) for i in range(count)]


def widths(generation: Generation) -> list[int]:
    uploads = {str(u.pk): u.width for u in Upload.objects.filter(pk__in=[i["upload"] for i in generation.images])}
    return [uploads[image["upload"]] for image in generation.images]


def complete(album: ChatAlbum | None = None) -> None:
    """As if BOT_ALBUM_WAIT_SECONDS passed with no new photo."""
    ChatAlbum.objects.filter(**({"pk": album.pk} if album else {})).update(due_at=timezone.now())


def test_an_album_is_one_generation_with_its_photos_in_order(feed, updates, fake_telegram, owner, owner_profile,
                                                             audit_passes):
    credits_give(owner, 100)
    album = updates.album(owner_profile, pictures(fake_telegram, 3), caption="all of us on a beach", caption_on=1)

    feed(*album)

    row = ChatAlbum.objects.get()
    assert (row.status, row.caption, row.caption_message_id) == ("collecting", "all of us on a beach",
                                                                 album[1]["message"]["message_id"])
    assert row.due_at > timezone.now()
    assert album_finish(album_id=row.pk) == "waiting"  # not complete yet
    complete()

    assert album_finish(album_id=row.pk) == "started"
    assert album_finish(album_id=row.pk) == "not_mine"

    generation = Generation.objects.get(user=owner)
    assert (generation.prompt, generation.model.slug) == ("all of us on a beach", "nano-banana")
    assert widths(generation) == [10, 11, 12]
    assert generation.idempotency_key == f"tg:album:{owner.telegram_id}:{GROUP}"
    assert generation_charges(owner) == 1
    assert fake_telegram.last("sendMessage")["text"] == "⏳ Nano Banana: queued (10 credits)"
    assert len(fake_telegram.calls_to("getFile")) == 3


@pytest.mark.django_db(transaction=True)
def test_photos_posted_at_once_with_finishers_racing_make_one_generation(feed, updates, fake_telegram, owner,
                                                                         owner_profile, audit_passes):
    credits_give(owner, 100)
    album = updates.album(owner_profile, pictures(fake_telegram, 3), caption="three friends", caption_on=2)
    adding = threading.Event()

    def arrive(i: int):
        if i < 3:
            try:
                feed(album[i])
            finally:
                adding.set()
            return None
        # The collector racing the photos: every finish before the album is complete waits.
        outcomes = set()
        deadline = time.monotonic() + 60
        while (not adding.is_set() or ChatAlbumPhoto.objects.count() < 3) and time.monotonic() < deadline:
            for row in ChatAlbum.objects.all():
                outcomes.add(album_finish(album_id=row.pk))
        return outcomes

    results = run_in_threads(5, arrive)
    assert not any(isinstance(result, Exception) for result in results), results
    assert results[3] | results[4] <= {"waiting"}
    assert ChatAlbum.objects.get().status == "collecting"

    # Complete: of several finishers at once exactly one starts it.
    complete()
    row = ChatAlbum.objects.get()
    outcomes = run_in_threads(3, lambda i: album_finish(album_id=row.pk))
    assert sorted(outcomes) == ["not_mine", "not_mine", "started"]

    generation = Generation.objects.get(user=owner)
    assert (generation.prompt, widths(generation)) == ("three friends", [10, 11, 12])
    assert generation_charges(owner) == 1
    owner.refresh_from_db()
    assert owner.credits == 90


@pytest.mark.django_db(transaction=True)
def test_a_photo_racing_the_claim_is_either_in_the_generation_or_told_it_came_late(
        feed, updates, fake_telegram, owner, owner_profile, bot_settings, audit_passes):
    """With no wait at all the collector claims while photos still arrive: none is ever
    lost silently."""
    bot_settings.BOT_ALBUM_WAIT_SECONDS = 0.001
    credits_give(owner, 100)
    album = updates.album(owner_profile, pictures(fake_telegram, 3), caption="three", caption_on=0)
    done = threading.Event()

    def arrive(i: int):
        if i < 3:
            feed(album[i])
            return
        try:
            while not done.is_set():
                for row in ChatAlbum.objects.filter(status="collecting"):
                    album_finish(album_id=row.pk)
        finally:
            connection.close()

    finisher = threading.Thread(target=arrive, args=(3,))
    finisher.start()
    try:
        run_in_threads(3, arrive)
    finally:
        done.set()
        finisher.join(timeout=60)
    complete()
    for row in ChatAlbum.objects.filter(status="collecting"):
        album_finish(album_id=row.pk)

    row = ChatAlbum.objects.get()
    taken = ChatAlbumPhoto.objects.filter(album=row).count()
    late = [c for c in fake_telegram.calls_to("sendMessage") if c["text"].startswith("This photo came after")]
    assert taken + len(late) == 3
    if row.status == "started":
        assert len(Generation.objects.get(user=owner).images) == taken
    else:  # the caption's photo came late: the others wait for a text
        assert row.status == "asked", [c["text"] for c in fake_telegram.calls_to("sendMessage")]
    assert generation_charges(owner) == (1 if row.status == "started" else 0)


def test_too_many_photos_for_the_model_are_refused_not_dropped(feed, updates, fake_telegram, owner, owner_profile,
                                                               audit_passes):
    credits_give(owner, 100)
    feed(*updates.album(owner_profile, pictures(fake_telegram, 4), caption="us"))
    complete()

    assert album_finish(album_id=ChatAlbum.objects.get().pk) == "refused"

    assert not Generation.objects.exists() and generation_charges(owner) == 0
    assert fake_telegram.last("sendMessage")["text"] == (
        "Nano Banana takes at most 3 photos at once, and you sent 4. Send at most 3.")


def test_too_many_photos_are_told_in_russian(feed, updates, fake_telegram, owner, owner_profile):
    owner_profile["language_code"] = "ru"
    feed(*updates.album(owner_profile, pictures(fake_telegram, 4), caption="мы"))
    complete()

    album_finish(album_id=ChatAlbum.objects.get().pk)

    assert fake_telegram.last("sendMessage")["text"] == (
        "Nano Banana принимает не больше 3 фото за раз, а вы отправили 4. Отправьте не больше 3.")  # noqa: RUF001


def test_an_album_without_a_caption_asks_and_the_next_text_uses_every_photo(feed, updates, fake_telegram, owner,
                                                                            owner_profile, audit_passes):
    credits_give(owner, 100)
    feed(*updates.album(owner_profile, pictures(fake_telegram, 2)))
    complete()

    assert album_finish(album_id=ChatAlbum.objects.get().pk) == "asked"
    assert fake_telegram.last("sendMessage")["text"] == (
        "Got your 2 photos. Now send me what to do with them, in one message.")

    feed(updates.text(owner_profile, "put us in Paris"))

    generation = Generation.objects.get(user=owner)
    assert (generation.prompt, widths(generation)) == ("put us in Paris", [10, 11])
    assert generation_charges(owner) == 1


def test_a_photo_after_its_album_was_taken_is_told_so(feed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 100)
    first, second = updates.album(owner_profile, pictures(fake_telegram, 2), caption="us")
    feed(first)
    complete()
    album_finish(album_id=ChatAlbum.objects.get().pk)

    feed(second)

    assert fake_telegram.last("sendMessage")["text"] == (
        "This photo came after the rest of its album had been taken. Send it again on its own, with a caption.")
    assert len(Generation.objects.get(user=owner).images) == 1
    feed(second | {"update_id": second["update_id"] + 100})  # the same message again: told once
    assert len([c for c in fake_telegram.calls_to("sendMessage") if c["text"].startswith("This photo")]) == 2


def test_a_redelivered_album_photo_changes_nothing(feed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 100)
    first, second = updates.album(owner_profile, pictures(fake_telegram, 2), caption="us")

    feed(first, second, first | {"update_id": first["update_id"] + 100})
    complete()
    album_finish(album_id=ChatAlbum.objects.get().pk)

    assert ChatAlbumPhoto.objects.count() == 2
    assert len(Generation.objects.get(user=owner).images) == 2


def test_one_refused_photo_refuses_the_album_and_says_which(feed, updates, fake_telegram, owner, owner_profile,
                                                            audit_passes):
    credits_give(owner, 100)
    files = [fake_telegram.client.add_file(png_bytes()), fake_telegram.client.add_file(b"%PDF-1.4 not an image"),
             fake_telegram.client.add_file(png_bytes())]
    feed(*updates.album(owner_profile, files, caption="us"))
    complete()

    assert album_finish(album_id=ChatAlbum.objects.get().pk) == "refused"

    assert fake_telegram.last("sendMessage")["text"] == (
        "Photo 2 of 3 cannot be used: Upload a JPEG, PNG or WebP image. Nothing was started.")
    assert len(fake_telegram.calls_to("getFile")) == 2  # the third was not even downloaded
    assert generation_charges(owner) == 0


def test_the_sweep_hands_over_what_the_bot_did_not_and_a_dead_workers_claim(feed, updates, fake_telegram, owner,
                                                                             owner_profile, audit_passes):
    from telegram_bot.tasks import chat_inputs_sweep

    credits_give(owner, 100)
    feed(*updates.album(owner_profile, pictures(fake_telegram, 2), caption="us"))
    assert chat_inputs_sweep()["enqueued"] == 0  # not complete yet
    complete()
    # A worker claimed it and died: its lease runs out.
    ChatAlbum.objects.update(status="fetching", lease_until=timezone.now() - timedelta(seconds=1))

    assert chat_inputs_sweep()["enqueued"] == 1
    assert queued_run("telegram_bot.tasks.album_finish") == ["started"]
    assert chat_inputs_sweep()["enqueued"] == 0 and not queued("telegram_bot.tasks.album_finish")
    assert generation_charges(owner) == 1


def test_the_sweep_forgets_old_finished_albums(feed, updates, fake_telegram, owner, owner_profile, bot_settings):
    from telegram_bot.tasks import chat_inputs_sweep

    credits_give(owner, 100)
    feed(*updates.album(owner_profile, pictures(fake_telegram, 2), caption="us"))
    complete()
    album_finish(album_id=ChatAlbum.objects.get().pk)
    ChatAlbum.objects.update(updated_at=timezone.now() - timedelta(days=bot_settings.TELEGRAM_UPDATES_KEEP_DAYS + 1))

    assert chat_inputs_sweep()["pruned"] == 1
    assert not ChatAlbum.objects.exists() and not ChatAlbumPhoto.objects.exists()
