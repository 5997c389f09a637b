"""Free credits in the Mini App: the daily bonus card on the balance screen (taken once a
day, then a countdown to the next) and the promo code field, in English and Russian."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from promotions.models import DailyBonusClaim, PromoRedemption
from tests.factories import PromoCodeFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bonus_on(settings):
    settings.DAILY_BONUS_CREDITS = 5
    return settings


def balance_screen(app, telegram_id: int, init_data, language_code: str = "en"):
    """The Mini App opened inside Telegram (Android) on the balance screen; its document."""
    app.open(init_data(telegram_id, language_code=language_code))
    page = app.view
    page.locator(".tab[data-screen='balance']").click()
    return page


def test_the_daily_bonus_is_taken_once_then_counts_down(miniapp_factory, init_data, bonus_on, audit_passes):
    user = UserFactory.create(telegram_id=7701, first_name="Daily", language_code="en")
    app = miniapp_factory(telegram="android")
    page = balance_screen(app, 7701, init_data)

    claim = page.locator(".bonus-claim")
    assert claim.inner_text() == "Get 5 credits"
    assert page.locator(".bonus-card .hint").inner_text() == "5 credits free every day."
    claim.click()
    page.get_by_text("+5 credits on your balance. See you tomorrow!").wait_for()
    page.wait_for_function("() => document.querySelector('.balance-amount').textContent === '5 credits'")
    page.locator(".bonus-countdown").wait_for()
    assert page.locator(".bonus-next").inner_text().startswith("Next bonus in ")
    assert page.locator(".bonus-claim").count() == 0
    assert DailyBonusClaim.objects.filter(user=user).count() == 1

    # Back on the screen later the same day: the countdown, no button.
    page.locator(".tab[data-screen='history']").click()
    page.locator(".tab[data-screen='balance']").click()
    page.locator(".bonus-countdown").wait_for()
    assert page.locator(".bonus-claim").count() == 0
    assert CreditLedgerEntry.objects.filter(user=user, kind=CreditKind.DAILY_BONUS).count() == 1
    assert app.unlabelled() == []


def test_no_bonus_card_while_the_bonus_is_off(miniapp_factory, init_data, settings):
    settings.DAILY_BONUS_CREDITS = 0
    UserFactory.create(telegram_id=7702, first_name="Nobonus", language_code="en")
    app = miniapp_factory(telegram="android")
    page = balance_screen(app, 7702, init_data)
    page.locator(".promo-form").wait_for()
    page.locator(".pack-list, .empty").first.wait_for()
    assert page.locator(".bonus-card").is_hidden()


def test_a_promo_code_adds_its_credits_and_refusals_are_said(miniapp_factory, init_data, settings, audit_passes):
    settings.DAILY_BONUS_CREDITS = 0
    user = UserFactory.create(telegram_id=7703, first_name="Promo", language_code="en")
    PromoCodeFactory.create(code="SPRING25", credits=25)
    app = miniapp_factory(telegram="android")
    page = balance_screen(app, 7703, init_data)

    field = page.get_by_label("Promo code")
    page.locator(".promo-apply").click()
    page.get_by_text("Enter a code first.").wait_for()

    field.fill("  spring25 ")
    page.locator(".promo-apply").click()
    page.get_by_text("Promo code accepted: +25 credits.").wait_for()
    page.wait_for_function("() => document.querySelector('.balance-amount').textContent === '25 credits'")
    assert field.input_value() == ""
    assert PromoRedemption.objects.filter(user=user).count() == 1

    field.fill("SPRING25")
    page.locator(".promo-apply").click()
    page.locator(".promo-form .message-error").get_by_text("You have already used this promo code.").wait_for()
    assert field.get_attribute("aria-invalid") == "true"

    field.fill("NOPE")
    page.locator(".promo-apply").click()
    page.locator(".promo-form .message-error").get_by_text(
        "This promo code does not exist or is no longer valid.").wait_for()
    assert page.locator(".balance-amount").inner_text() == "25 credits"


def test_in_russian_with_the_wait_after_too_many_attempts(miniapp_factory, init_data, bonus_on, audit_passes):
    bonus_on.PROMO_RATE_LIMIT_ATTEMPTS = 1
    UserFactory.create(telegram_id=7704, first_name="Русский", language_code="ru")
    app = miniapp_factory(telegram="weba", locale="ru-RU")
    page = balance_screen(app, 7704, init_data, language_code="ru")
    assert page.locator(".bonus-claim").inner_text() == "Получить 5 кредитов"
    field = page.get_by_label("Промокод")
    field.fill("GUESS1")
    page.locator(".promo-apply").click()
    page.get_by_text("Такого промокода нет или он больше не действует.").wait_for()
    field.fill("GUESS2")
    page.locator(".promo-apply").click()
    page.get_by_text("Слишком много попыток. Повторите через 10 минут.").wait_for()
