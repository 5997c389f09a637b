"""Screenshots of every main screen, light and dark (and Russian), on a 360 px phone,
saved to artifacts/screenshots/ for a person to look at. The walk through the screens
is itself checked: each screen shows its content, nothing overflows the width, and every
control has a name a screen reader can read."""

import pytest

from payments.services import referral_link
from tests.factories import CreditPackFactory, PaidPaymentFactory, UserFactory
from tests.helpers import credits_give
from tests.miniapp.e2e.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("scheme", "language"), [("light", "en"), ("dark", "en"), ("dark", "ru")])
def test_screenshots_of_every_screen(miniapp_factory, init_data, catalog, packs, worker, settings, scheme, language):
    settings.TELEGRAM_BOT_USERNAME = "nanogen_bot"
    settings.WITHDRAWAL_MIN_AMOUNT = 10
    user = UserFactory.create(telegram_id=7701, first_name="Shot", language_code=language)
    credits_give(user, 250)
    friend = UserFactory.create(telegram_id=7702, first_name="Friend", language_code="en")
    assert referral_link(referrer=user, new_user=friend)
    big = CreditPackFactory.create(slug="e2e-shot", title="Big", stars=500, credits=600)
    PaidPaymentFactory.create(user=friend, pack=big)
    PaidPaymentFactory.create(user=user, pack=packs[0])

    app = miniapp_factory(color_scheme=scheme, locale="ru-RU" if language == "ru" else "en-US")
    page = app.page
    app.open(init_data(7701, first_name="Shot", language_code=language))
    suffix = f"{scheme}-{language}"
    shots = []

    page.locator(".model-card").nth(1).wait_for()
    assert not app.unlabelled()
    shots.append(app.screenshot(f"catalog-{suffix}"))
    assert no_horizontal_overflow(page)

    page.locator(".model-card[data-model='nano-banana']").click()
    page.locator("textarea.prompt").fill(
        "A red fox in a snowy birch forest at dawn, soft light, detailed watercolour" if language == "en"
        else "Рыжая лиса в снежном берёзовом лесу на рассвете, мягкий свет, акварель")
    assert not app.unlabelled()
    shots.append(app.screenshot(f"create-{suffix}"))
    assert no_horizontal_overflow(page)

    page.locator(".main-button").click()
    page.locator(".screen-generation .gen-status").wait_for()
    assert not app.unlabelled()
    shots.append(app.screenshot(f"progress-{suffix}"))
    page.locator(".screen-generation img.result-media").wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector('img.result-media').naturalWidth > 0")
    assert not app.unlabelled()
    shots.append(app.screenshot(f"result-{suffix}"))
    assert no_horizontal_overflow(page)

    page.locator(".topbar-back").click()
    page.locator(".tab[data-screen='history']").click()
    page.locator(".history-list li img.thumb").wait_for()
    page.wait_for_function("() => document.querySelector('.history-list img.thumb').naturalWidth > 0")
    assert not app.unlabelled()
    shots.append(app.screenshot(f"history-{suffix}"))

    page.locator(".tab[data-screen='balance']").click()
    page.locator(".payment-list li").first.wait_for()
    assert not app.unlabelled()
    shots.append(app.screenshot(f"balance-{suffix}"))
    assert no_horizontal_overflow(page)

    page.locator(".tab[data-screen='referrals']").click()
    page.locator(".invite-input").wait_for()
    assert not app.unlabelled()
    shots.append(app.screenshot(f"referrals-{suffix}"))
    assert no_horizontal_overflow(page)

    page.locator(".open-withdrawals").click()
    page.locator(".screen-withdrawals form").wait_for()
    assert not app.unlabelled()
    shots.append(app.screenshot(f"withdrawals-{suffix}"))
    assert no_horizontal_overflow(page)

    from PIL import Image

    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (PHONE["width"] * 2, PHONE["height"] * 2)


ANDROID_CHROME = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><style>
  body {{ margin: 0; width: 360px; font: 15px system-ui, sans-serif; background: {bottom}; }}
  header {{ height: 56px; display: flex; align-items: center; gap: 16px; padding: 0 16px; box-sizing: border-box;
    background: {header}; color: {header_text}; font-size: 18px; font-weight: 600; }}
  img {{ display: block; width: 360px; }}
  footer {{ padding: 8px 12px; background: {bottom}; }}
  footer div {{ height: 48px; border-radius: 8px; display: flex; align-items: center; justify-content: center;
    font-weight: 600; background: {button}; color: {button_text}; }}
</style></head><body>
  <header><span>{back}</span><span>NanoGen</span></header>
  <img alt="" src="data:image/png;base64,{webview}">
  {footer}
</body></html>"""


def android_screenshot(app, name: str) -> None:
    """An Android client draws its header and the MainButton natively, around the webview:
    the webview's screenshot framed by them, as the client's state says."""
    import base64

    from tests.miniapp.e2e.conftest import SCREENSHOTS

    state = app.client.state()
    theme = app.theme_params
    header = state["header"] if (state["header"] or "").startswith("#") else theme[state["header"] or "bg_color"]
    button = state["mainButton"]
    webview = base64.b64encode(app.page.screenshot(full_page=False)).decode()
    html = ANDROID_CHROME.format(
        header=header, header_text=theme["text_color"], bottom=state["bottomBar"] or theme["secondary_bg_color"],
        back="&#8592;" if state["backButton"]["is_visible"] else "&#215;", webview=webview,
        button=button.get("color", ""), button_text=button.get("text_color", ""),
        footer=f"<footer><div>{button['text']}</div></footer>" if button["is_visible"] else "",
    )
    chrome = app.page.context.new_page()
    chrome.set_viewport_size({"width": 360, "height": 56 + PHONE["height"] + (64 if button["is_visible"] else 0)})
    chrome.set_content(html)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chrome.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    chrome.close()


@pytest.mark.parametrize(("client", "scheme"), [("weba", "light"), ("weba", "dark"), ("android", "light")])
def test_screenshots_of_the_create_screen_in_telegram(miniapp_factory, init_data, catalog, client, scheme):
    """The create screen as Telegram shows it: Telegram Web's frame with its header and
    MainButton, or an Android client's native header and MainButton around the webview."""
    user = UserFactory.create(telegram_id=7703, first_name="Shot", language_code="en")
    credits_give(user, 250)
    app = miniapp_factory(telegram=client, color_scheme=scheme)
    app.open(init_data(7703, first_name="Shot"))
    view = app.view
    view.locator(".model-card[data-model='nano-banana']").click()
    view.locator("textarea.prompt").fill("A red fox in a snowy birch forest at dawn, soft light, detailed watercolour")
    app.client.wait_for_main_button(text="Generate · 10 credits")
    assert not app.unlabelled()
    if client == "weba":
        app.page.locator("#tg-main-button").wait_for()
        assert app.page.locator("#tg-main-button").inner_text() == "Generate · 10 credits"
        app.screenshot(f"telegram-weba-create-{scheme}")
    else:
        android_screenshot(app, f"telegram-android-create-{scheme}")
