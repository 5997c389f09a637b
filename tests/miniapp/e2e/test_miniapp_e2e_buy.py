"""Buying credits inside Telegram: the pack's invoice opens in Telegram's sheet
(web_app_open_invoice), and when it closes as paid the balance shows the new credits;
closed unpaid, the purchase is listed as cancelled."""

import pytest

from payments.models import Payment
from payments.services import payment_confirm
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_paid_invoice_refreshes_the_balance(miniapp_factory, init_data, packs, fake_telegram, audit_passes):
    user = UserFactory.create(telegram_id=7501, first_name="Buyer", language_code="en")
    app = miniapp_factory(telegram="android")
    app.open(init_data(7501))
    page, client = app.view, app.client
    page.locator(".tab[data-screen='balance']").click()
    pack = page.locator(".pack-buy[data-pack='e2e-plus']")
    assert pack.get_attribute("aria-label") == "Buy Plus for 200 Stars"
    assert page.locator(".balance-amount").inner_text() == "0 credits"

    pack.click()
    client.wait_for_invoice()
    payment = Payment.objects.get(user=user)
    assert payment.status == Payment.Status.PENDING and payment.credits == 220
    assert client.state()["openInvoices"] == [payment.invoice_link.rsplit("$", 1)[1]]
    assert fake_telegram.last("createInvoiceLink")["currency"] == "XTR"
    # While the sheet is open, no second invoice can be started.
    assert page.locator(".pack-buy").evaluate_all("bs => bs.every(b => b.disabled)")

    # The user pays: Telegram sends successful_payment to the bot, then closes the sheet.
    payment_confirm(telegram_user_id=7501, payload=payment.invoice_payload, currency="XTR",
                    total_amount=payment.stars, telegram_payment_charge_id="stxE2E0001")
    client.close_invoice("paid")
    page.get_by_text("Payment received. Thank you!").wait_for()
    page.wait_for_function("() => document.querySelector('.balance-amount').textContent === '220 credits'")
    assert page.locator(".balance-chip").inner_text().strip() == "220"
    page.locator(".payment-list li[data-status='paid']").wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('.pack-buy')].every(b => !b.disabled)")


def test_cancelled_invoice_changes_nothing_but_says_so(miniapp_factory, init_data, packs, fake_telegram):
    user = UserFactory.create(telegram_id=7502, first_name="Undecided", language_code="ru")
    app = miniapp_factory(telegram="weba")
    app.open(init_data(7502, language_code="ru"))
    page, client = app.view, app.client
    page.locator(".tab[data-screen='balance']").click()
    page.locator(".pack-buy[data-pack='e2e-small']").click()
    client.wait_for_invoice()
    client.close_invoice("cancelled")
    page.wait_for_function("() => [...document.querySelectorAll('.pack-buy')].every(b => !b.disabled)")
    page.locator(".payment-list li[data-status='cancelled']").get_by_text("Отменён").wait_for()
    assert "Ожидает оплаты" not in page.locator(".payment-list").inner_text()
    assert page.locator(".balance-amount").inner_text() == "0 кредитов"
    assert page.locator(".pack-title").all_inner_texts() == ["Стартовый", "Плюс"]
    assert Payment.objects.get(user=user).status == Payment.Status.CANCELLED
