"""Telegram Stars in the fake Bot API: the bot's Stars transactions, subscriptions and
refunds, as Telegram keeps them.

`fake_telegram.stars` is Telegram's side of the money:

- `payment(profile, payload=..., amount=..., subscription_period=..., affiliate=...)`
  makes a user pay an invoice: the incoming transaction is recorded (what
  getStarTransactions lists) and the `successful_payment` content the bot would be
  sent is returned (wrap it with `TelegramUpdates.stars_payment`). A test that drops
  that update has a charge the bot never heard of, as after an outage.
- `renewal(charge_id)` renews a subscription (a new charge, the same payload) and
  refuses, as Telegram would never do it, when the subscription was cancelled.
- `refund_outside(charge_id)`: Telegram's support refunds a charge; returns the
  `refunded_payment` content.

Bot API methods, as strict as Telegram: `getStarTransactions` (offset >= 0, limit
1..100, chronological order, or newest first with `newest_first = True`),
`refundStarPayment` (CHARGE_ALREADY_REFUNDED for a second refund; a charge the fake
never saw is refunded as if it had been paid: many tests confirm payments without
it), `editUserStarSubscription`, and invoices (`sendInvoice`, `createInvoiceLink`):
currency XTR, exactly one price, no provider token, `subscription_period` only on
invoice links, only 2592000 (60 or 300 with `test_environment = True`) and at most
10000 Stars.
"""

import itertools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.telegram import FakeCall, FakeTelegram

SUBSCRIPTION_PERIOD = 2592000
TEST_ENVIRONMENT_PERIODS = (60, 300)
SUBSCRIPTION_MAX_STARS = 10000


class FakeApiError(Exception):
    """Raised by a fake method: answered as the Bot API's error envelope."""

    def __init__(self, description: str, *, error_code: int = 400) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description


def _bad_request(text: str) -> FakeApiError:
    return FakeApiError(f"Bad Request: {text}")


def _int(call: "FakeCall", name: str, *, default: int | None = None) -> int:
    value = call.get(name, default)
    if value is None:
        raise _bad_request(f"parameter \"{name}\" is required")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"field \"{name}\" must be a Number") from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise _bad_request("field \"is_canceled\" must be a Boolean")


class FakeStars:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transactions: list[dict[str, Any]] = []
        self._refunded: set[str] = set()
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._charges = itertools.count(1)
        # Telegram documents "chronological order"; a test may check that either order works.
        self.newest_first = False
        self.test_environment = False

    # --- scripting: what users and Telegram's support do ------------------------------------
    def payment(self, profile: dict[str, Any], *, payload: str, amount: int, charge_id: str | None = None,
                subscription_period: int | None = None, affiliate: dict[str, Any] | None = None,
                date: int | None = None) -> dict[str, Any]:
        """A user pays an invoice of `amount` Stars; the `successful_payment` content for
        the bot. With an affiliate, the transaction lists what the bot kept (the
        amount less the affiliate's share; Telegram does not document which of the
        two it lists, and NanoGen accepts either)."""
        charge_id = charge_id or self._charge_id()
        date = date or int(time.time())
        source: dict[str, Any] = {"type": "user", "transaction_type": "invoice_payment", "user": profile,
                                  "invoice_payload": payload}
        if subscription_period:
            source["subscription_period"] = subscription_period
        if affiliate:
            source["affiliate"] = affiliate
        kept = amount - (affiliate or {}).get("amount", 0)
        with self._lock:
            self._transactions.append({"id": charge_id, "amount": kept, "date": date, "source": source})
        paid: dict[str, Any] = {"currency": "XTR", "total_amount": amount, "invoice_payload": payload,
                                "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""}
        if subscription_period:
            expires = date + subscription_period
            with self._lock:
                self._subscriptions[charge_id] = {"user_id": profile["id"], "profile": profile, "payload": payload,
                                                  "amount": amount, "period": subscription_period,
                                                  "expires": expires, "canceled": False}
            paid.update(subscription_expiration_date=expires, is_recurring=True, is_first_recurring=True)
        return paid

    def renewal(self, charge_id: str, *, new_charge_id: str | None = None) -> dict[str, Any]:
        """Telegram renews the subscription started by `charge_id`: the next period's
        `successful_payment` content (a new charge id, the same payload)."""
        with self._lock:
            subscription = self._subscriptions[charge_id]
            if subscription["canceled"]:
                raise AssertionError(f"subscription {charge_id} was cancelled: Telegram does not renew it")
            subscription["expires"] += subscription["period"]
            expires = subscription["expires"]
        new_charge_id = new_charge_id or self._charge_id()
        source = {"type": "user", "transaction_type": "invoice_payment", "user": subscription["profile"],
                  "invoice_payload": subscription["payload"], "subscription_period": subscription["period"]}
        with self._lock:
            self._transactions.append({"id": new_charge_id, "amount": subscription["amount"],
                                       "date": int(time.time()), "source": source})
        return {"currency": "XTR", "total_amount": subscription["amount"], "invoice_payload": subscription["payload"],
                "telegram_payment_charge_id": new_charge_id, "provider_payment_charge_id": "",
                "subscription_expiration_date": expires, "is_recurring": True}

    def refund_outside(self, charge_id: str) -> dict[str, Any]:
        """Telegram's support refunds a charge: the `refunded_payment` content."""
        incoming = self._incoming(charge_id)
        assert incoming is not None, f"no payment {charge_id} to refund"
        self._refund(charge_id, incoming)
        return {"currency": "XTR", "total_amount": incoming["amount"],
                "invoice_payload": incoming["source"].get("invoice_payload", ""),
                "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""}

    def subscription(self, charge_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._subscriptions[charge_id])

    @property
    def transactions(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._transactions)

    def _charge_id(self) -> str:
        return f"stxFAKE{next(self._charges):08d}"

    def _incoming(self, charge_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((t for t in self._transactions if t["id"] == charge_id and "source" in t), None)

    def _refund(self, charge_id: str, incoming: dict[str, Any] | None, *, user_id: int = 0) -> None:
        with self._lock:
            if charge_id in self._refunded:
                raise _bad_request("CHARGE_ALREADY_REFUNDED")
            self._refunded.add(charge_id)
            if incoming is not None:
                receiver = dict(incoming["source"])
                receiver.pop("affiliate", None)
            else:
                receiver = {"type": "user", "transaction_type": "invoice_payment",
                            "user": {"id": user_id, "is_bot": False, "first_name": "?"}}
            self._transactions.append({"id": charge_id, "amount": incoming["amount"] if incoming else 1,
                                       "date": int(time.time()), "receiver": receiver})

    # --- Bot API methods --------------------------------------------------------------------
    def get_star_transactions(self, fake: "FakeTelegram", call: "FakeCall") -> dict[str, Any]:
        offset = _int(call, "offset", default=0)
        limit = _int(call, "limit", default=100)
        if offset < 0:
            raise _bad_request("offset must be non-negative")
        if not 1 <= limit <= 100:
            raise _bad_request("limit must be between 1 and 100")
        with self._lock:
            ordered = list(reversed(self._transactions)) if self.newest_first else list(self._transactions)
        return {"transactions": ordered[offset:offset + limit]}

    def refund_star_payment(self, fake: "FakeTelegram", call: "FakeCall") -> bool:
        user_id = _int(call, "user_id")
        charge_id = str(call.get("telegram_payment_charge_id") or "")
        if not charge_id:
            raise _bad_request("parameter \"telegram_payment_charge_id\" is required")
        incoming = self._incoming(charge_id)
        if incoming is not None and incoming["source"]["user"]["id"] != user_id:
            raise _bad_request("USER_ID_INVALID")
        self._refund(charge_id, incoming, user_id=user_id)
        return True

    def edit_user_star_subscription(self, fake: "FakeTelegram", call: "FakeCall") -> bool:
        user_id = _int(call, "user_id")
        charge_id = str(call.get("telegram_payment_charge_id") or "")
        canceled = _bool(call.get("is_canceled"))
        with self._lock:
            subscription = self._subscriptions.get(charge_id)
            if subscription is None or subscription["user_id"] != user_id:
                raise _bad_request("SUBSCRIPTION_NOT_FOUND")
            subscription["canceled"] = canceled
        return True

    def invoice_check(self, call: "FakeCall", *, link: bool) -> None:
        """What Telegram refuses in a Stars invoice."""
        if call.get("currency") != "XTR":
            raise _bad_request("currency must be XTR for payments in Telegram Stars")
        if call.get("provider_token"):
            raise _bad_request("provider_token must be empty for payments in Telegram Stars")
        prices = call.get("prices")
        if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
            raise _bad_request("STARS_INVOICE_INVALID: exactly one price is allowed")
        amount = int(prices[0].get("amount", 0))
        if amount <= 0:
            raise _bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        period = call.get("subscription_period")
        if period is None:
            return
        if not link:
            raise _bad_request("subscription_period is only accepted by createInvoiceLink")
        allowed = (SUBSCRIPTION_PERIOD, *TEST_ENVIRONMENT_PERIODS) if self.test_environment else (SUBSCRIPTION_PERIOD,)
        if int(period) not in allowed:
            raise _bad_request("SUBSCRIPTION_PERIOD_INVALID")
        if amount > SUBSCRIPTION_MAX_STARS:
            raise _bad_request("SUBSCRIPTION_PRICE_INVALID")


def stars_methods(
    create_invoice_link: Callable[["FakeTelegram", "FakeCall"], Any],
    send_invoice: Callable[["FakeTelegram", "FakeCall"], Any],
) -> dict[str, Callable[["FakeTelegram", "FakeCall"], Any]]:
    """The fake's Stars methods (each reaches the fake's `stars`), and its invoice
    methods with Telegram's checks in front."""

    def checked_link(fake: "FakeTelegram", call: "FakeCall") -> Any:
        fake.stars.invoice_check(call, link=True)
        return create_invoice_link(fake, call)

    def checked_invoice(fake: "FakeTelegram", call: "FakeCall") -> Any:
        fake.stars.invoice_check(call, link=False)
        return send_invoice(fake, call)

    return {
        "getStarTransactions": lambda fake, call: fake.stars.get_star_transactions(fake, call),
        "refundStarPayment": lambda fake, call: fake.stars.refund_star_payment(fake, call),
        "editUserStarSubscription": lambda fake, call: fake.stars.edit_user_star_subscription(fake, call),
        "createInvoiceLink": checked_link,
        "sendInvoice": checked_invoice,
    }
