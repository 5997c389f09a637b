"""Subscriptions on the balance screen: the offer beside the packs, bought through
Telegram's invoice sheet; then the active subscription with its renewal date, and
cancel (asked twice), after which it says until when it lasts."""

from datetime import UTC, datetime

import pytest

from accounts.models import User
from payments.models import CreditPack, Payment, Subscription
from payments.services import payment_confirm
from tests.fakes.telegram_updates import telegram_profile

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def monthly(packs) -> CreditPack:
    return CreditPack.objects.create(slug="e2e-monthly", title="Monthly", title_ru="Месячная", stars=300,
                                     credits=500, period_days=30, sort_order=3)


def test_subscribe_see_the_renewal_date_and_cancel(miniapp_factory, init_data, monthly, fake_telegram,
                                                     audit_passes):
    user = User.objects.create(telegram_id=7601, first_name="Subscriber", language_code="en")
    app = miniapp_factory(telegram="android")
    app.open(init_data(7601))
    page, client = app.view, app.client
    page.locator(".tab[data-screen='balance']").click()

    offer = page.locator(".subscription-buy[data-pack='e2e-monthly']")
    assert offer.get_attribute("aria-label") == "Subscribe to Monthly for 300 Stars a month"
    assert page.locator(".subscription-offer .pack-credits").inner_text() == "500 credits every 30 days"
    assert page.locator(".pack-list:not(.subscription-offers) .pack-title").all_inner_texts() == ["Starter", "Plus"]

    offer.click()
    client.wait_for_invoice()
    payment = Payment.objects.get(user=user)
    assert fake_telegram.last("createInvoiceLink")["subscription_period"] == 2592000
    # The user pays; Telegram tells the bot (successful_payment of a subscription) and closes the sheet.
    paid = fake_telegram.stars.payment(telegram_profile(7601), payload=payment.invoice_payload, amount=300,
                                       subscription_period=2592000)
    payment_confirm(telegram_user_id=7601, payload=payment.invoice_payload, currency="XTR", total_amount=300,
                    telegram_payment_charge_id=paid["telegram_payment_charge_id"],
                    subscription_expires_at=datetime.fromtimestamp(paid["subscription_expiration_date"], tz=UTC))
    client.close_invoice("paid")
    page.wait_for_function("() => document.querySelector('.balance-amount').textContent === '500 credits'")

    item = page.locator(".subscription[data-status='active']")
    item.wait_for()
    assert item.locator(".subscription-when").inner_text().startswith("Renews on ")
    assert page.locator(".subscription-buy").count() == 0  # already subscribed: no offer
    assert not app.unlabelled()

    cancel = item.locator(".subscription-cancel")
    cancel.click()
    assert cancel.inner_text() == "Tap again to cancel"
    assert not fake_telegram.calls_to("editUserStarSubscription")  # the first tap only asks
    cancel.click()
    page.locator(".subscription[data-status='cancelled']").wait_for()
    page.get_by_text("Subscription cancelled.", exact=False).wait_for()
    assert page.locator(".subscription-when").inner_text().startswith("Cancelled · yours until ")
    assert fake_telegram.last("editUserStarSubscription")["is_canceled"] is True
    assert Subscription.objects.get().status == "cancelled"
    page.locator(".subscription-buy[data-pack='e2e-monthly']").wait_for()  # may subscribe again
    app.screenshot("balance-subscription-cancelled")


def test_the_offer_in_russian(miniapp_factory, init_data, monthly, fake_telegram):
    User.objects.create(telegram_id=7602, first_name="Подписчик", language_code="ru")
    app = miniapp_factory(telegram="weba")
    app.open(init_data(7602, language_code="ru"))
    app.view.locator(".tab[data-screen='balance']").click()
    offer = app.view.locator(".subscription-offer")
    offer.wait_for()
    assert offer.locator(".pack-title").inner_text() == "Месячная"
    assert offer.locator(".pack-credits").inner_text() == "500 кредитов каждые 30 дней"
    assert app.view.locator(".subscriptions .section-title").text_content() == "Подписка"
