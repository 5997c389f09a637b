"""Inside a Telegram client (a local stand-in for telegram-web-app.js): the page calls
ready() and expand(), follows the theme and its changes, and speaks the user's language."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DARK = {
    "bg_color": "#212121", "secondary_bg_color": "#0f0f0f", "text_color": "#ffffff", "hint_color": "#aaaaaa",
    "link_color": "#8774e1", "button_color": "#8774e1", "button_text_color": "#ffffff", "header_bg_color": "#212121",
    "section_bg_color": "#212121",
}
LIGHT = {
    "bg_color": "#ffffff", "secondary_bg_color": "#f4f4f5", "text_color": "#000000", "hint_color": "#707579",
    "link_color": "#3390ec", "button_color": "#3390ec", "button_text_color": "#ffffff", "header_bg_color": "#ffffff",
    "section_bg_color": "#ffffff",
}


def rgb(hex_color: str) -> str:
    n = int(hex_color[1:], 16)
    return f"rgb({n >> 16 & 255}, {n >> 8 & 255}, {n & 255})"


def test_ready_expand_and_theme(miniapp_factory, init_data):
    app = miniapp_factory(telegram="fake")
    app.open(init_data(6001, language_code="en"), theme_params=DARK)
    app.page.wait_for_selector("html[data-ready='true']")
    calls = [c[0] for c in app.telegram_calls()]
    assert "ready" in calls and "expand" in calls
    assert ["setHeaderColor", DARK["header_bg_color"]] in app.telegram_calls()
    body = app.page.locator("body")
    assert body.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(DARK["secondary_bg_color"])
    assert body.evaluate("e => getComputedStyle(e).color") == rgb(DARK["text_color"])
    assert app.page.evaluate("document.documentElement.dataset.scheme") == "dark"

    # The user switches Telegram to a light theme while the app is open.
    app.page.evaluate("([p]) => window.__tg.setTheme(p, 'light')", [LIGHT])
    assert body.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(LIGHT["secondary_bg_color"])
    assert app.page.evaluate("document.documentElement.dataset.scheme") == "light"
    # Inside Telegram the native buttons are used, never the page's stand-ins.
    assert app.page.locator(".main-button").is_hidden()
    assert app.page.locator(".topbar-back").is_hidden()


def test_texts_follow_the_users_language(miniapp_factory, init_data):
    app = miniapp_factory(telegram="fake", locale="en-US")
    app.open(init_data(6002, language_code="ru"), theme_params=LIGHT)
    app.page.wait_for_selector("html[data-ready='true']")
    assert app.page.evaluate("document.documentElement.lang") == "ru"
    tabs = app.page.locator(".tab-label").all_inner_texts()
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

