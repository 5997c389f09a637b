"""The fake Bot API's Stars: as strict as Telegram about invoices, transactions,
refunds and subscriptions."""

import pytest
import requests
from django.conf import settings

from tests.fakes.telegram_updates import telegram_profile

INVOICE = {"title": "t", "description": "d", "payload": "p", "currency": "XTR",
           "prices": [{"label": "x", "amount": 100}]}


def call(fake, method: str, **params) -> dict:
    return requests.post(f"{fake.base_url}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}", json=params, timeout=5).json()


@pytest.mark.parametrize("method, params, description", [
    ("createInvoiceLink", {"currency": "USD"}, "currency must be XTR"),
    ("createInvoiceLink", {"prices": [{"label": "a", "amount": 1}, {"label": "b", "amount": 1}]},
     "exactly one price"),
    ("createInvoiceLink", {"provider_token": "tok"}, "provider_token must be empty"),
    ("createInvoiceLink", {"subscription_period": 86400}, "SUBSCRIPTION_PERIOD_INVALID"),
    ("createInvoiceLink", {"subscription_period": 300}, "SUBSCRIPTION_PERIOD_INVALID"),  # test environment only
    ("createInvoiceLink", {"subscription_period": 2592000, "prices": [{"label": "x", "amount": 10001}]},
     "SUBSCRIPTION_PRICE_INVALID"),
    ("sendInvoice", {"chat_id": 5, "subscription_period": 2592000}, "subscription_period"),  # not a parameter of it
])
def test_invoices_telegram_refuses_are_refused(fake_telegram, method, params, description):
    answer = call(fake_telegram, method, **{**INVOICE, **params})
    assert (answer["ok"], answer["error_code"]) == (False, 400)
    assert description in answer["description"]


def test_valid_invoices_and_the_test_environments_periods(fake_telegram):
    assert call(fake_telegram, "createInvoiceLink", **INVOICE, subscription_period=2592000)["ok"]
    fake_telegram.stars.test_environment = True
    assert call(fake_telegram, "createInvoiceLink", **INVOICE, subscription_period=60)["ok"]


def test_transactions_are_paginated_like_telegrams(fake_telegram):
    profile = telegram_profile(5)
    for i in range(3):
        fake_telegram.stars.payment(profile, payload=f"p{i}", amount=10 + i)
    page = call(fake_telegram, "getStarTransactions", offset=1, limit=1)["result"]["transactions"]
    assert [(tx["amount"], tx["source"]["invoice_payload"]) for tx in page] == [(11, "p1")]
    assert len(call(fake_telegram, "getStarTransactions")["result"]["transactions"]) == 3
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        assert call(fake_telegram, "getStarTransactions", **params)["error_code"] == 400


def test_a_refund_is_an_outgoing_transaction_and_happens_once(fake_telegram):
    paid = fake_telegram.stars.payment(telegram_profile(5), payload="p", amount=10)
    charge = paid["telegram_payment_charge_id"]
    assert call(fake_telegram, "refundStarPayment", user_id=6, telegram_payment_charge_id=charge)["error_code"] == 400
    assert call(fake_telegram, "refundStarPayment", user_id=5, telegram_payment_charge_id=charge)["ok"]
    again = call(fake_telegram, "refundStarPayment", user_id=5, telegram_payment_charge_id=charge)
    assert again["description"] == "Bad Request: CHARGE_ALREADY_REFUNDED"
    refund = fake_telegram.stars.transactions[-1]
    assert (refund["id"], refund["amount"], refund["receiver"]["user"]["id"]) == (charge, 10, 5)


def test_subscriptions_renew_until_cancelled(fake_telegram):
    paid = fake_telegram.stars.payment(telegram_profile(5), payload="p", amount=10, subscription_period=2592000)
    charge = paid["telegram_payment_charge_id"]
    assert (paid["is_first_recurring"], paid["is_recurring"]) == (True, True)
    renewal = fake_telegram.stars.renewal(charge)
    assert renewal["invoice_payload"] == "p" and renewal["telegram_payment_charge_id"] != charge
    assert renewal["subscription_expiration_date"] == paid["subscription_expiration_date"] + 2592000

    assert call(fake_telegram, "editUserStarSubscription", user_id=6, telegram_payment_charge_id=charge,
                is_canceled=True)["error_code"] == 400  # not their subscription
    assert call(fake_telegram, "editUserStarSubscription", user_id=5, telegram_payment_charge_id=charge,
                is_canceled=True)["ok"]
    with pytest.raises(AssertionError, match="does not renew"):
        fake_telegram.stars.renewal(charge)
