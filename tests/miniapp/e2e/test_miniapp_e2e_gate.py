"""Without valid init data the Mini App says what to do instead of failing."""

import time

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_without_init_data_it_asks_to_open_in_telegram(miniapp_factory):
    app = miniapp_factory()
    app.open(None)
    title = app.page.locator(".gate-title")
    assert title.inner_text() == "Open NanoGen in Telegram"
    # The devlogin hint is for a DEBUG server only; the test server is a production one.
    assert app.page.locator(".gate-hint").count() == 0
    app.screenshot("gate-light-en")


def test_the_gate_speaks_the_browsers_language(miniapp_factory):
    app = miniapp_factory(locale="ru-RU", color_scheme="dark")
    app.open(None)
    assert app.page.locator(".gate-title").inner_text() == "Откройте NanoGen в Telegram"
    assert app.page.evaluate("document.documentElement.lang") == "ru"
    app.screenshot("gate-dark-ru")


def test_expired_init_data_asks_to_reopen_the_app(miniapp_factory, init_data, settings):
    old = int(time.time()) - settings.TELEGRAM_INIT_DATA_MAX_AGE - 60
    app = miniapp_factory()
    app.open(init_data(5001, auth_date=old))
    assert app.page.locator(".gate-title").inner_text() == "Session expired"
    assert app.page.get_by_role("button", name="Close").is_visible()


def test_forged_init_data_is_refused(miniapp_factory, init_data):
    app = miniapp_factory()
    app.open(init_data(5002, bot_token="999:NOT-OUR-BOT"))
    assert app.page.locator(".gate-title").inner_text() == "Open NanoGen in Telegram"


def test_a_banned_user_sees_the_servers_reason(miniapp_factory, init_data):
    UserFactory.create(telegram_id=5003, first_name="Banned", language_code="ru", is_banned=True)
    app = miniapp_factory()
    app.open(init_data(5003, first_name="Banned", language_code="ru"))
    assert app.page.locator(".gate-title").inner_text() == "Доступ закрыт"
    message = app.page.locator(".gate-text").inner_text()
    assert message and message != "Доступ закрыт"
