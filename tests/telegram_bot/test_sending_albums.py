"""Several results go as an album (sendMediaGroup) with the caption on the first
item; what an album cannot hold goes as documents. Uploads stream from storage."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from telegram_bot.sending import Attachment, Outgoing, bot_send
from tests.telegram_bot.helpers import gif_bytes, png_bytes

pytestmark = pytest.mark.django_db


def stored(data: bytes, extension: str) -> str:
    return default_storage.save(f"generations/test/album.{extension}", ContentFile(data))


def test_three_photos_are_one_album_with_the_caption_on_the_first(bot_settings, fake_telegram):
    pictures = [png_bytes((8 + i, 8)) for i in range(3)]
    attachments = tuple(Attachment("photo", stored(data, "png"), f"{i}.png") for i, data in enumerate(pictures))

    sent = bot_send(Outgoing(chat_id=5, text="three foxes", attachments=attachments))

    (call,) = fake_telegram.calls_to("sendMediaGroup")
    assert [item["type"] for item in call["media"]] == ["photo"] * 3
    assert [item.get("caption") for item in call["media"]] == ["three foxes", None, None]
    uploads = [call[item["media"].removeprefix("attach://")] for item in call["media"]]
    assert [upload.content for upload in uploads] == pictures
    assert sent.method == "sendMediaGroup"
    assert [file.kind for file in sent.files] == ["photo"] * 3
    assert len({file.file_id for file in sent.files}) == 3


def test_animations_go_as_an_album_of_documents(bot_settings, fake_telegram):
    attachments = (Attachment("animation", stored(gif_bytes(), "gif"), "a.gif"),
                   Attachment("photo", stored(png_bytes(), "png"), "b.png"))

    sent = bot_send(Outgoing(chat_id=5, text="", attachments=attachments))

    assert [item["type"] for item in fake_telegram.last("sendMediaGroup")["media"]] == ["document"] * 2
    assert [file.kind for file in sent.files] == ["document"] * 2


def test_an_album_telegram_refuses_is_sent_again_as_documents(bot_settings, fake_telegram):
    fake_telegram.fail("sendMediaGroup", error_code=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
    attachments = tuple(Attachment("photo", stored(png_bytes(), "png"), f"{i}.png") for i in range(2))

    bot_send(Outgoing(chat_id=5, text="", attachments=attachments))

    _first, second = fake_telegram.calls_to("sendMediaGroup")
    assert [item["type"] for item in second["media"]] == ["document"] * 2
