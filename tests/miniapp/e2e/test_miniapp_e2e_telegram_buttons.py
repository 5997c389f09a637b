"""Inside a Telegram client the create screen submits with Telegram's MainButton and
deeper screens go back with its BackButton; the page's own stand-ins stay hidden. In
Telegram Web the user presses the buttons that the client draws around the frame."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_main_and_back_buttons_are_telegrams(miniapp_factory, init_data, catalog):
    app = miniapp_factory(telegram="weba")
    app.open(init_data(6004))
    view, client = app.view, app.client
    card = view.locator(".model-card[data-model='nano-banana']")
    card.wait_for()
    assert not client.back_visible()
    assert not client.main_button()["is_visible"]
    assert app.page.locator("#tg-bottom-bar").is_hidden()

    card.click()
    view.locator(".screen-create").wait_for()
    client.wait_for_main_button(text="Generate · 10 credits")
    button = client.main_button()
    assert button["is_active"] and not button["is_progress_visible"]
    assert client.back_visible()
    assert view.locator(".tabbar").is_hidden()
    assert view.locator(".main-button").is_hidden() and view.locator(".topbar-back").is_hidden()
    # Telegram Web draws them: the MainButton under the frame, the back arrow in its header.
    assert app.page.locator("#tg-main-button").inner_text() == "Generate · 10 credits"

    app.page.locator("#tg-back").click()
    view.locator(".screen-catalog").wait_for()
    assert view.locator(".screen-create").count() == 0
    client.wait_for_back_button(False)
    client.wait_for_main_button(visible=False)
    assert view.locator(".tabbar").is_visible()
    assert app.page.locator("#tg-bottom-bar").is_hidden()
