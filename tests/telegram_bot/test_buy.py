"""/buy: a button per pack on sale; a button sends a Stars invoice for a new pending payment."""

import pytest

from accounts.models import User
from payments.models import CreditPack, Payment
from payments.services import invoice_payload_verify
from tests.factories import CreditPackFactory

pytestmark = pytest.mark.django_db


def test_buy_offers_one_button_per_pack_on_sale(feed, updates, fake_telegram, owner_profile, packs):
    feed(updates.command(owner_profile, "buy"))

    reply = fake_telegram.last("sendMessage")
    assert reply["text"] == "Choose a credit pack. You pay with Telegram Stars."
    assert reply["reply_markup"] == {"inline_keyboard": [
        [{"text": "Small: 60 credits: 60 credits for 50 ⭐", "callback_data": "buy:small"}],
        [{"text": "Big: 700 credits: 700 credits for 500 ⭐", "callback_data": "buy:big"}],
    ]}
    assert not Payment.objects.exists()  # nothing is bought by looking


def test_subscriptions_are_sold_in_the_mini_app_only(feed, updates, fake_telegram, owner_profile, packs):
    # sendInvoice cannot make a subscription (only createInvoiceLink can).
    CreditPackFactory.create(slug="monthly", title="Monthly", stars=300, credits=500, period_days=30)

    feed(updates.command(owner_profile, "buy"))

    buttons = fake_telegram.last("sendMessage")["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in buttons] == ["buy:small", "buy:big"]


def test_buy_in_russian(feed, updates, fake_telegram, owner_profile, packs):
    owner_profile["language_code"] = "ru"

    feed(updates.command(owner_profile, "buy"))

    buttons = fake_telegram.last("sendMessage")["reply_markup"]["inline_keyboard"]
    assert buttons[0][0]["text"] == "Малый: 60 кредитов: 60 кредитов за 50 ⭐"


def test_a_pack_button_sends_a_stars_invoice_for_a_pending_payment(feed, updates, fake_telegram, owner,
                                                                  owner_profile, packs):
    feed(updates.callback(owner_profile, "buy:big"))

    assert fake_telegram.last("answerCallbackQuery")
    payment = Payment.objects.get()
    assert (payment.user, payment.pack.slug, payment.stars, payment.credits, payment.status) == (
        owner, "big", 500, 700, "pending")
    invoice = fake_telegram.last("sendInvoice")
    assert int(invoice["chat_id"]) == owner.telegram_id
    assert (invoice["title"], invoice["currency"]) == ("Big: 700 credits", "XTR")
    assert invoice["prices"] == [{"label": "Big: 700 credits", "amount": 500}]
    assert "700 credits" in invoice["description"]
    assert invoice["payload"] == payment.invoice_payload and invoice_payload_verify(payment, invoice["payload"])


def test_an_invoice_telegram_refuses_fails_the_payment_and_tells_the_user(feed, updates, fake_telegram,
                                                                         owner_profile, packs):
    fake_telegram.fail("sendInvoice", error_code=400, description="Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")

    feed(updates.callback(owner_profile, "buy:small"))

    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason) == ("failed", "sendInvoice: Currency_total_amount_invalid")
    assert fake_telegram.last("sendMessage")["text"] == (
        "Telegram could not create the invoice. Please try again in a minute.")


def test_a_pack_withdrawn_since_the_buttons_were_sent_is_refused(feed, updates, fake_telegram, owner_profile,
                                                                packs):
    CreditPack.objects.filter(slug="big").update(is_active=False)

    feed(updates.callback(owner_profile, "buy:big"), updates.callback(owner_profile, "buy:nosuchpack"))

    assert not Payment.objects.exists() and not fake_telegram.calls_to("sendInvoice")
    assert [c["text"] for c in fake_telegram.calls_to("sendMessage")] == ["This credit pack is not on sale."] * 2


def test_nothing_on_sale(feed, updates, fake_telegram, owner_profile):
    CreditPack.objects.update(is_active=False)

    feed(updates.command(owner_profile, "buy"))

    assert fake_telegram.last("sendMessage")["text"] == "No credit packs are on sale right now. Please come back later."


def test_a_banned_user_cannot_buy(feed, updates, fake_telegram, owner, owner_profile, packs):
    User.objects.filter(pk=owner.pk).update(is_banned=True)

    feed(updates.command(owner_profile, "buy"), updates.callback(owner_profile, "buy:small"))

    assert [c["text"] for c in fake_telegram.calls_to("sendMessage")] == ["Your account is banned."] * 2
    assert not Payment.objects.exists()
