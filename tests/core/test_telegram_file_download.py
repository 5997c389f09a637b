"""Files users send the bot, downloaded by the worker: getFile, then the file route of
TELEGRAM_API_BASE_URL; with a self-hosted server in --local mode (an absolute path and
no file route) the file is read from that path, or asked for on the route when it is
not readable here. Never more than the caller takes, never the token in an error."""

import pytest

from core.telegram_api import BotFileTooLarge, TelegramApiError, bot_file_download

PICTURE = b"\x89PNG\r\n\x1a\n" + b"picture" * 100


def test_the_cloud_api_file_comes_from_the_file_route(fake_telegram, settings):
    file_id = fake_telegram.client.add_file(PICTURE)

    assert bot_file_download(file_id, max_bytes=10_000) == PICTURE
    assert fake_telegram.last("getFile")["file_id"] == file_id


def test_a_file_larger_than_taken_is_refused_from_getfiles_size_unread(fake_telegram):
    file_id = fake_telegram.client.add_file(PICTURE)

    with pytest.raises(BotFileTooLarge) as info:
        bot_file_download(file_id, max_bytes=100)
    assert info.value.size == len(PICTURE)


def test_a_download_stops_past_the_limit_when_the_size_was_not_told(fake_telegram):
    file_id = fake_telegram.client.add_file(PICTURE)
    fake_telegram.respond("getFile", {"file_id": file_id, "file_unique_id": "u", "file_path": "photos/file_1.jpg"})

    with pytest.raises(BotFileTooLarge):
        bot_file_download(file_id, max_bytes=100)


def test_an_unknown_file_is_a_permanent_error_without_the_token(fake_telegram, settings):
    with pytest.raises(TelegramApiError) as info:
        bot_file_download("AgACAgIAAxkBAAIunknown", max_bytes=10_000)

    assert (info.value.error_code, info.value.is_transient) == (400, False)
    assert settings.TELEGRAM_BOT_TOKEN not in str(info.value)


def test_a_vanished_file_on_the_route_is_permanent_a_5xx_transient(fake_telegram, settings):
    fake_telegram.respond("getFile", {"file_id": "x", "file_unique_id": "u", "file_path": "photos/gone.jpg"})
    with pytest.raises(TelegramApiError) as info:
        bot_file_download("x", max_bytes=10_000)
    assert (info.value.error_code, info.value.is_transient) == (404, False)
    assert settings.TELEGRAM_BOT_TOKEN not in str(info.value)

    fake_telegram.fail("getFile", error_code=502, description="Bad Gateway")
    with pytest.raises(TelegramApiError) as info:
        bot_file_download("x", max_bytes=10_000)
    assert info.value.is_transient


def test_a_local_server_file_is_read_from_its_path(fake_telegram, settings, tmp_path):
    settings.TELEGRAM_API_LOCAL = True
    fake_telegram.client.local_mode(tmp_path / "telegram-bot-api")  # its disk, shared with this machine
    file_id = fake_telegram.client.add_file(PICTURE)

    assert bot_file_download(file_id, max_bytes=10_000) == PICTURE


def test_a_local_server_file_not_readable_here_is_asked_for_on_the_route(fake_telegram, settings):
    """The bot's machine does not see the server's disk: a web server in front of the
    Bot API server (the aiogram image's nginx) serves the absolute path on the route."""
    settings.TELEGRAM_API_LOCAL = True
    fake_telegram.client.local_mode(route_serves_local_paths=True)
    file_id = fake_telegram.client.add_file(PICTURE)

    assert bot_file_download(file_id, max_bytes=10_000) == PICTURE


def test_a_local_server_file_neither_readable_nor_served_is_an_error(fake_telegram, settings):
    settings.TELEGRAM_API_LOCAL = True
    fake_telegram.client.local_mode()  # another machine, and no web server in front of it
    file_id = fake_telegram.client.add_file(PICTURE)

    with pytest.raises(TelegramApiError) as info:
        bot_file_download(file_id, max_bytes=10_000)
    assert (info.value.error_code, info.value.is_transient) == (404, False)


def test_a_local_servers_large_file_is_still_bounded(fake_telegram, settings, tmp_path):
    settings.TELEGRAM_API_LOCAL = True
    fake_telegram.client.local_mode(tmp_path / "telegram-bot-api")
    file_id = fake_telegram.client.add_file(PICTURE)
    fake_telegram.respond("getFile", lambda call: {"file_id": file_id, "file_unique_id": "u",
                                                   "file_path": str(tmp_path / "big.jpg")})
    (tmp_path / "big.jpg").write_bytes(PICTURE)

    with pytest.raises(BotFileTooLarge):
        bot_file_download(file_id, max_bytes=100)
