"""A self-hosted Bot API server (TELEGRAM_API_LOCAL): plain-HTTP webhooks, and uploads
up to its 2000 MB; with the cloud API a result over 50 MB goes as a link."""

import pytest
from django.core.files.storage import default_storage

from telegram_bot.application import application_build
from telegram_bot.checks import webhook_settings_problem
from telegram_bot.services.results import result_messages
from tests.telegram_bot.helpers import MINI_APP_URL, generation_finished

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def test_a_plain_http_webhook_needs_a_local_server(settings):
    settings.TELEGRAM_WEBHOOK_URL = "http://bot:8443/telegram/webhook"
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret"

    settings.TELEGRAM_API_LOCAL = False
    assert "must be an https:// address" in (webhook_settings_problem() or "")
    settings.TELEGRAM_API_LOCAL = True
    assert webhook_settings_problem() is None
    settings.TELEGRAM_WEBHOOK_URL = "ftp://bot/telegram"
    assert webhook_settings_problem() == "TELEGRAM_WEBHOOK_URL must be an http:// or https:// address."


def test_the_bot_talks_to_a_local_server_in_local_mode(bot_settings):
    bot_settings.TELEGRAM_API_LOCAL = True
    assert application_build().bot.local_mode is True
    bot_settings.TELEGRAM_API_LOCAL = False
    assert application_build().bot.local_mode is False


@pytest.fixture
def big_video(owner, bot_settings):
    """A completed video generation whose stored file is 60 MB (sparse: nothing is written)."""
    generation = generation_finished(owner, content_type="video/mp4", data=b"\x00\x00\x00\x18ftypmp42")
    with default_storage.open(generation.result_file.name, "r+b") as stored:
        stored.truncate(60 * MB)
    return generation


def test_with_the_cloud_api_a_result_over_50_mb_is_a_link(big_video, owner, bot_settings):
    bot_settings.TELEGRAM_API_LOCAL = False

    (message,) = result_messages(big_video, chat_id=owner.telegram_id)

    assert message.attachments == ()
    assert MINI_APP_URL.rstrip("/") + big_video.result_file.url in message.text
    assert message.text.startswith(big_video.prompt)
    assert message.reply_markup.inline_keyboard[0][0].callback_data == f"r:a:{big_video.pk}:0"


def test_with_a_local_server_it_is_uploaded(big_video, owner, bot_settings):
    bot_settings.TELEGRAM_API_LOCAL = True

    (message,) = result_messages(big_video, chat_id=owner.telegram_id)

    (attachment,) = message.attachments
    assert (attachment.kind, attachment.storage_name) == ("video", big_video.result_file.name)
