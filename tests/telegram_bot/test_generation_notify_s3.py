"""The notification uploads the result read from the media storage (here an object
store, as with workers on several machines), never from a local path; a store that is
down is retried like a network error, a result that is gone still tells the user."""

import pytest

from telegram_bot.models import GenerationNotification
from telegram_bot.tasks import generation_notify
from tests.telegram_bot.helpers import generation_finished, png_bytes
from tests.telegram_bot.queue import clock_forward, scheduled, scheduled_run

pytestmark = pytest.mark.django_db

NOTIFY = "telegram_bot.tasks.generation_notify"


def test_the_photo_is_uploaded_from_the_object_store(owner, bot_settings, fake_telegram, s3_media):
    generation = generation_finished(owner, data=png_bytes((12, 34)))
    assert s3_media.keys() == [generation.result_file.name]

    assert generation_notify(generation.pk) == "sent"

    (photo,) = fake_telegram.calls_to("sendPhoto")
    assert photo["photo"].content == png_bytes((12, 34))


def test_a_store_that_is_down_is_tried_again_later(owner, bot_settings, fake_telegram, s3_media):
    generation = generation_finished(owner)
    store = bot_settings.STORAGES["default"]
    bot_settings.STORAGES = {**bot_settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage", "OPTIONS": s3_media.storage_options(endpoint_url="http://127.0.0.1:9")}}

    assert generation_notify(generation.pk) == "retry_scheduled"
    assert not fake_telegram.calls
    notification = GenerationNotification.objects.get(pk=generation.pk)
    assert notification.status == "pending" and notification.detail.startswith("media storage:")

    bot_settings.STORAGES = {**bot_settings.STORAGES, "default": store}
    clock_forward(bot_settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS)
    assert scheduled_run(NOTIFY) == ["sent"]
    assert fake_telegram.last("sendPhoto")["photo"].content == png_bytes()
    assert not scheduled(NOTIFY)


def test_a_result_gone_from_the_store_still_tells_the_user(owner, bot_settings, fake_telegram, s3_media):
    generation = generation_finished(owner)
    s3_media.server.client.delete_object(Bucket=s3_media.bucket, Key=generation.result_file.name)

    assert generation_notify(generation.pk) == "sent"

    assert not fake_telegram.calls_to("sendPhoto")
    assert fake_telegram.last("sendMessage")["text"].startswith("Your generation is ready: open it in the app.")
