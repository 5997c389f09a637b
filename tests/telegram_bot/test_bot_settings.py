"""The bot's settings are checked at start-up."""

import pytest

from telegram_bot.checks import bot_settings_check


def ids(settings) -> list[str | None]:
    return [message.id for message in bot_settings_check()]


def test_the_test_settings_pass_once_support_is_reachable(settings):
    settings.TELEGRAM_SUPPORT_CONTACT = "@nanogen_support"
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    assert ids(settings) == []


def test_webhook_mode_needs_https_and_a_secret(settings):
    settings.TELEGRAM_SUPPORT_CONTACT = "@nanogen_support"
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    settings.TELEGRAM_WEBHOOK_URL = "https://bot.nanogen.test/hook"
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert ids(settings) == ["telegram_bot.E001"]
    settings.TELEGRAM_WEBHOOK_SECRET = "ok_secret-1"
    assert ids(settings) == []
    settings.TELEGRAM_WEBHOOK_URL = "http://bot.nanogen.test/hook"
    assert ids(settings) == ["telegram_bot.E001"]


def test_nonsense_numbers_are_refused(settings):
    settings.TELEGRAM_SUPPORT_CONTACT = "@nanogen_support"
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS = 0
    settings.TELEGRAM_UPDATES_KEEP_DAYS = 1
    assert ids(settings) == ["telegram_bot.E002", "telegram_bot.E002"]


@pytest.mark.parametrize("name, value", [
    ("TELEGRAM_UPDATE_MAX_ATTEMPTS", 0),
    ("TELEGRAM_UPDATE_LEASE_SECONDS", 0),
    ("TELEGRAM_UPDATE_RETRY_BASE_SECONDS", -1),
    ("TELEGRAM_UPDATE_RETRY_MAX_SECONDS", 1),  # below the base delay
    ("TELEGRAM_WEBHOOK_MAX_BODY_BYTES", 1000),  # would refuse Telegram's own updates
    ("BOT_ALBUM_WAIT_SECONDS", 0),  # an album would be taken at its first photo
    ("BOT_PENDING_INPUT_MINUTES", 0),
    ("BOT_PENDING_INPUT_MINUTES", 24 * 60),  # the waiting images would be swept as unused uploads
])
def test_nonsense_update_settings_are_refused(settings, name, value):
    settings.TELEGRAM_SUPPORT_CONTACT = "@nanogen_support"
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    setattr(settings, name, value)
    assert ids(settings) == ["telegram_bot.E002"]


def test_the_old_name_of_the_updates_setting_is_pointed_out(settings, monkeypatch):
    settings.TELEGRAM_SUPPORT_CONTACT = "@nanogen_support"
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    monkeypatch.setenv("TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS", "3")
    assert ids(settings) == ["telegram_bot.W004"]


def test_warnings_for_a_running_bot(settings):
    settings.TELEGRAM_SUPPORT_CONTACT = ""
    settings.ADMIN_ALERT_CHAT_ID = ""
    settings.MINI_APP_URL = "http://127.0.0.1:8000/"
    settings.TELEGRAM_UPLOAD_TIMEOUT = settings.Q_CLUSTER["timeout"]
    assert ids(settings) == ["telegram_bot.W001", "telegram_bot.W002", "telegram_bot.W003"]
    settings.TELEGRAM_BOT_ENABLED = False  # no bot, nothing to warn about
    assert ids(settings) == []
