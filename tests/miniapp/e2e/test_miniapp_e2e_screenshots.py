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
