"""The Mini App in Telegram's clients: Telegram's own telegram-web-app.js, answered the
way Telegram Web A (a frame, postMessage) and Android (a webview, TelegramWebviewProxy)
answer it, on every generation of client versions.

Each test walks one main flow on one client and asserts on the protocol the client saw:
the native MainButton with the price, the BackButton on inner screens (or the page's own
where the client has none), the header and background colours in the form the client's
version takes. The fixture fails the test on any uncaught error, unhandled rejection,
CSP violation, SDK warning or event a real client would refuse.

Cost: a flow is a few seconds, and each test shares one browser between its launches.
The cheap flows (expired init data, start, theme, back) run on every version and
platform; the payment flow on every version of one platform and the oldest and newest
of the other (the invoice protocol is the same message on both transports); the
generation flow on the oldest and the newest client of each platform (the page's code
between the MainButton and the result does not depend on the version).
"""

import time

import pytest

from accounts.models import User
from generations.models import Generation
from payments.models import Payment
from payments.services import payment_confirm
from tests.factories import UserFactory
from tests.helpers import credits_give
from tests.miniapp.e2e.telegram_client import NEWEST_VERSION, PLATFORMS, THEMES, VERSIONS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ALL_CLIENTS = [pytest.param(p, v, id=f"{p}-{v}") for p in PLATFORMS for v in VERSIONS]
PAYMENT_CLIENTS = [pytest.param("android", v, id=f"android-{v}") for v in VERSIONS] + [
    pytest.param("weba", v, id=f"weba-{v}") for v in dict.fromkeys(["6.0", NEWEST_VERSION])]
GENERATION_CLIENTS = [pytest.param(p, v, id=f"{p}-{v}") for p in PLATFORMS for v in dict.fromkeys(
    [VERSIONS[0], NEWEST_VERSION])]


def at_least(version: str, minimum: str) -> bool:
    return tuple(int(n) for n in version.split(".")) >= tuple(int(n) for n in minimum.split("."))


def rgb(hex_color: str) -> str:
    n = int(hex_color[1:], 16)
    return f"rgb({n >> 16 & 255}, {n >> 8 & 255}, {n & 255})"


def user_with_credits(telegram_id: int, amount: int = 100, language: str = "en") -> User:
    user = UserFactory.create(telegram_id=telegram_id, first_name="Client", language_code=language)
    if amount:
        credits_give(user, amount)
    return user


def open_started(miniapp_factory, init_data, platform: str, version: str, telegram_id: int, **kwargs):
    app = miniapp_factory(telegram=platform, version=version, **kwargs)
    app.open(init_data(telegram_id))
    app.wait_ready()
    return app


def assert_back_button(app, visible: bool) -> None:
    """The BackButton is Telegram's from 6.1 on; a 6.0 client has none, so the page shows its own."""
    page_back = app.view.locator(".topbar-back")
    if at_least(app.version, "6.1"):
        app.client.wait_for_back_button(visible)
        assert page_back.is_hidden()
    else:
        page_back.wait_for(state="visible" if visible else "hidden")
        assert not app.client.back_visible()
        assert not [e for e in app.client.events("web_app_setup_back_button") if e["supported"]]


def come_back_from(app, popup) -> None:
    """The user closes the browser tab the link opened and is back in Telegram's. Without
    this the tab switch can land in the middle of the next click (Chromium activates a
    popup a moment after it exists) and that click is lost."""
    popup.wait_for_load_state()
    popup.close()
    app.page.bring_to_front()
    app.view.wait_for_function("() => document.hasFocus()")


def go_back(app) -> None:
    if at_least(app.version, "6.1"):
        app.client.press_back()
    else:
        app.view.locator(".topbar-back").click()


def expired_init_data_asks_to_reopen(miniapp_factory, init_data, settings, platform: str, version: str) -> None:
    old = int(time.time()) - settings.TELEGRAM_INIT_DATA_MAX_AGE - 60
    app = miniapp_factory(telegram=platform, version=version)
    app.open(init_data(8002, auth_date=old))
    title = app.view.locator(".gate-title")
    title.wait_for()
    assert title.inner_text() == "Session expired"
    assert app.view.locator(".boot").count() == 0  # not "Loading…"
    assert not app.client.main_button()["is_visible"]
    app.view.get_by_role("button", name="Close").click()
    app.client.wait_for("c => c.closed")


@pytest.mark.parametrize(("platform", "version"), ALL_CLIENTS)
def test_start_theme_back_navigation_and_expired_init_data(miniapp_factory, init_data, catalog, settings, platform,
                                                           version):
    # Two launches in one browser: an expired one first, then a good one.
    expired_init_data_asks_to_reopen(miniapp_factory, init_data, settings, platform, version)

    user_with_credits(8001)
    app = open_started(miniapp_factory, init_data, platform, version, 8001)
    client, view = app.client, app.view
    light, dark = THEMES[(platform, "light")], THEMES[(platform, "dark")]
    state = client.state()
    assert state["ready"] and state["expanded"]
    assert not state["mainButton"]["is_visible"]
    # The header and background in our colours, in the form this client takes.
    if at_least(version, "6.9"):
        assert state["header"] == light["bg_color"]
    elif at_least(version, "6.1"):
        assert state["header"] == "bg_color"
    if at_least(version, "6.1"):
        assert state["background"] == light["secondary_bg_color"]
    if platform == "weba":
        # Telegram Web's CSS reached the SDK's style element, under the page's CSP.
        assert state["customStyleSent"]
        view.wait_for_function("() => [...document.querySelectorAll('head style')]"
                               ".some((s) => s.textContent.includes('--scrollbar-width'))")
    assert_back_button(app, False)

    # The create screen: Telegram's MainButton with the price, a way back.
    view.locator(".model-card[data-model='nano-banana']").click()
    view.locator(".screen-create").wait_for()
    client.wait_for_main_button(text="Generate · 10 credits")
    button = client.main_button()
    assert button["is_active"] and not button["is_progress_visible"]
    assert button["color"] == light["button_color"]
    assert view.locator(".main-button").is_hidden()  # the page's stand-in stays hidden
    assert_back_button(app, True)

    # The user switches Telegram to the night theme while the app is open.
    client.set_theme(dark)
    view.wait_for_function("() => document.documentElement.dataset.scheme === 'dark'")
    body = view.locator("body")
    assert body.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(dark["secondary_bg_color"])
    assert body.evaluate("e => getComputedStyle(e).color") == rgb(dark["text_color"])
    client.wait_for("(c, color) => c.mainButton.color === color", dark["button_color"])
    assert client.main_button()["text"] == "Generate · 10 credits"
    if at_least(version, "6.9"):
        client.wait_for("(c, color) => c.header === color", dark["bg_color"])

    # Back to the catalog: no MainButton, no BackButton, the tab bar again.
    go_back(app)
    view.locator(".screen-catalog").wait_for()
    assert view.locator(".screen-create").count() == 0
    client.wait_for_main_button(visible=False)
    assert_back_button(app, False)
    assert view.locator(".tabbar").is_visible()


@pytest.mark.parametrize(("platform", "version"), PAYMENT_CLIENTS)
def test_buy_cancelled_then_paid(miniapp_factory, init_data, packs, fake_telegram, platform, version, audit_passes):
    user = user_with_credits(8003, amount=0)
    app = open_started(miniapp_factory, init_data, platform, version, 8003)
    client, view = app.client, app.view
    view.locator(".tab[data-screen='balance']").click()
    buy = view.locator(".pack-buy[data-pack='e2e-small']")

    if not at_least(version, "6.1"):
        # No invoices in a 6.0 client: the link is handed to Telegram (Web) or the system.
        if platform == "weba":
            buy.click()
            client.wait_for("c => c.links.some((l) => l.type === 'web_app_open_tg_link')")
            payment = Payment.objects.get(user=user)
            assert client.state()["links"][-1]["path_full"] == "/" + payment.invoice_link.split("/", 3)[3]
        else:
            app.page.context.route("https://t.me/**", lambda route: route.fulfill(status=200, body="Telegram"))
            with app.page.expect_popup() as popup:
                buy.click()
            popup.value.wait_for_load_state()
            payment = Payment.objects.get(user=user)
            assert popup.value.url == payment.invoice_link
        view.get_by_text("Finish the payment in Telegram").wait_for()
        assert not client.events("web_app_open_invoice")
        return

    # The user closes the invoice sheet without paying.
    buy.click()
    client.wait_for_invoice()
    payment = Payment.objects.get(user=user)
    assert client.events("web_app_open_invoice")[-1]["data"] == {"slug": payment.invoice_link.rsplit("$", 1)[1]}
    assert view.locator(".pack-buy").evaluate_all("bs => bs.every(b => b.disabled)")
    client.close_invoice("cancelled")
    row = view.locator(f".payment-list li[data-id='{payment.pk}']")
    row.locator(".badge", has_text="Cancelled").wait_for()
    assert "Awaiting payment" not in view.locator(".payment-list").inner_text()
    view.wait_for_function("() => [...document.querySelectorAll('.pack-buy')].every(b => !b.disabled)")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert view.locator(".balance-amount").inner_text() == "0 credits"

    # Then buys: Telegram sends successful_payment to the bot, then closes the sheet.
    view.locator(".pack-buy[data-pack='e2e-plus']").click()
    client.wait_for_invoice()
    paid = Payment.objects.filter(user=user).latest("id")
    payment_confirm(telegram_user_id=8003, payload=paid.invoice_payload, currency="XTR", total_amount=paid.stars,
                    telegram_payment_charge_id=f"stxCLIENT{platform}{version}")
    client.close_invoice("paid")
    view.get_by_text("Payment received. Thank you!").wait_for()
    view.wait_for_function("() => document.querySelector('.balance-amount').textContent === '220 credits'")
    view.locator(f".payment-list li[data-id='{paid.pk}'][data-status='paid']").wait_for()
    haptics = [e["data"] for e in client.events("web_app_trigger_haptic_feedback")]
    assert {"type": "notification", "notification_type": "success"} in haptics


@pytest.mark.parametrize(("platform", "version"), GENERATION_CLIENTS)
def test_create_with_the_main_button_until_the_result(miniapp_factory, init_data, catalog, worker, platform, version,
                                                      audit_passes):
    user = user_with_credits(8004)
    app = open_started(miniapp_factory, init_data, platform, version, 8004)
    client, view = app.client, app.view
    view.locator(".model-card[data-model='nano-banana']").click()
    view.get_by_label("Prompt").fill("a paper boat on a puddle")
    client.wait_for_main_button(text="Generate · 10 credits")
    client.press_main()
    view.locator(".screen-generation .gen-status").wait_for()
    # While the request was in flight the button showed progress and took no taps.
    setups = [e["data"] for e in client.events("web_app_setup_main_button")]
    assert any(s.get("is_progress_visible") and s.get("is_active") is False for s in setups)
    client.wait_for_main_button(visible=False)
    assert_back_button(app, True)
    view.locator(".screen-generation img.result-media").wait_for(timeout=30_000)
    view.wait_for_function("() => document.querySelector('img.result-media').naturalWidth > 0")
    generation = Generation.objects.get(user=user)
    assert generation.status == Generation.Status.COMPLETED

    # Save: Telegram's download dialog from 8.0 on when the file is on https; the test
    # server is plain http, so every client gets the link opened instead.
    save = view.locator(".screen-generation a[download]")
    if at_least(version, "6.1"):
        save.click()
        client.wait_for("c => c.links.some((l) => l.type === 'web_app_open_link')")
        assert client.state()["links"][-1]["url"] == view.evaluate("u => new URL(u, location.href).href",
                                                                   save.get_attribute("href"))
    else:
        with app.page.expect_popup() as popup:  # what the SDK does for openLink before 6.1
            save.click()
        come_back_from(app, popup.value)
    assert not client.events("web_app_request_file_download")

    go_back(app)
    view.locator(".screen-catalog").wait_for()
    assert_back_button(app, False)
