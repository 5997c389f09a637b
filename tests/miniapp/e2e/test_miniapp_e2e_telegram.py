"""Inside a Telegram client (Telegram's SDK, an emulated Android client): the page says it
is ready and expands, paints Telegram's header and background, follows the theme and its
changes, and speaks the user's language."""

import pytest

from tests.miniapp.e2e.telegram_client import ANDROID_DARK_THEME, ANDROID_LIGHT_THEME

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DARK = ANDROID_DARK_THEME
LIGHT = ANDROID_LIGHT_THEME


def rgb(hex_color: str) -> str:
    n = int(hex_color[1:], 16)
    return f"rgb({n >> 16 & 255}, {n >> 8 & 255}, {n & 255})"


def test_ready_expand_and_theme(miniapp_factory, init_data):
    app = miniapp_factory(telegram="android")
    app.open(init_data(6001, language_code="en"), theme_params=DARK)
    app.wait_ready()
    client = app.client
    sent = client.event_types()
    assert "web_app_ready" in sent and "web_app_expand" in sent
    assert client.events("web_app_setup_swipe_behavior")[-1]["data"] == {"allow_vertical_swipe": False}
    client.wait_for("(c, color) => c.header === color", DARK["bg_color"])
    assert client.state()["background"] == DARK["secondary_bg_color"]
    body = app.page.locator("body")
    assert body.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(DARK["secondary_bg_color"])
    assert body.evaluate("e => getComputedStyle(e).color") == rgb(DARK["text_color"])
    assert app.page.evaluate("document.documentElement.dataset.scheme") == "dark"

    # The user switches Telegram to a light theme while the app is open.
    client.set_theme(LIGHT)
    app.page.wait_for_function("() => document.documentElement.dataset.scheme === 'light'")
    assert body.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(LIGHT["secondary_bg_color"])
    client.wait_for("(c, color) => c.header === color", LIGHT["bg_color"])
    # Inside Telegram the native buttons are used, never the page's stand-ins.
    assert app.page.locator(".main-button").is_hidden()
    assert app.page.locator(".topbar-back").is_hidden()


def test_texts_follow_the_users_language(miniapp_factory, init_data):
    app = miniapp_factory(telegram="weba", locale="en-US")
    app.open(init_data(6002, language_code="ru"))
    app.wait_ready()
    assert app.view.evaluate("document.documentElement.lang") == "ru"
    tabs = app.view.locator(".tab-label").all_inner_texts()
    assert tabs == ["Создать", "История", "Баланс", "Друзья"]


def test_outside_telegram_theme_follows_the_browser(miniapp_factory, init_data):
    app = miniapp_factory(color_scheme="dark")
    app.open(init_data(6003))
    app.page.wait_for_selector("html[data-ready='true']")
    assert app.page.evaluate("document.documentElement.dataset.scheme") == "dark"
    # The signed init data is taken out of the address bar once read.
    assert "tgWebAppData" not in app.page.url
    app.page.reload()
    app.page.wait_for_selector("html[data-ready='true']")
