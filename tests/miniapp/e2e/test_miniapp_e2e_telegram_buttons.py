"""Inside a Telegram client the create screen submits with Telegram's MainButton and
deeper screens go back with its BackButton; the page's own stand-ins stay hidden."""

import pytest

from tests.miniapp.e2e.test_miniapp_e2e_telegram import LIGHT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_main_and_back_buttons_are_telegrams(miniapp_factory, init_data, catalog):
    app = miniapp_factory(telegram="fake")
    page = app.page
    app.open(init_data(6004), theme_params=LIGHT)
    card = page.locator(".model-card[data-model='nano-banana']")
    card.wait_for()
    tg = "window.__tg"
    assert not page.evaluate(f"{tg}.backVisible()")
    assert not page.evaluate(f"{tg}.mainButton()")["visible"]

    card.click()
    page.locator(".screen-create").wait_for()
    assert page.evaluate(f"{tg}.backVisible()")
    assert page.evaluate(f"{tg}.mainButton()") == {
        "text": "Generate · 10 credits", "visible": True, "active": True, "progress": False}
    assert page.locator(".tabbar").is_hidden()

    page.evaluate(f"{tg}.clickBack()")
    page.locator(".screen-catalog").wait_for()
    assert page.locator(".screen-create").count() == 0
    assert not page.evaluate(f"{tg}.backVisible()")
    assert not page.evaluate(f"{tg}.mainButton()")["visible"]
    assert page.locator(".tabbar").is_visible()
