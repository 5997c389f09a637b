"""Events of the money side that a higher app (the bot) reacts to.

payments must not import telegram_bot, so the bot registers listeners in its
`AppConfig.ready` (`hook_register(PAYMENT_ISSUE, alert_admins)`). Listeners are
called after the transaction that caused the event commits, with ids only
(`payment_id=7`), and a failing listener is logged, never propagated: an alert
that cannot be sent must not undo a payment. Nothing is registered by default.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

PAYMENT_PAID = "payment_paid"  # payment_id
PAYMENT_ISSUE = "payment_issue"  # issue_id: Stars received that matched nothing; alert admins
PAYMENT_REFUNDED = "payment_refunded"  # payment_id
# payment_id: Telegram refunded it outside NanoGen (its support); the credits were taken back. Alert admins.
PAYMENT_REFUNDED_OUTSIDE = "payment_refunded_outside"
WITHDRAWAL_REQUESTED = "withdrawal_requested"  # withdrawal_id; alert admins
WITHDRAWAL_DECIDED = "withdrawal_decided"  # withdrawal_id; tell the user

EVENTS = (PAYMENT_PAID, PAYMENT_ISSUE, PAYMENT_REFUNDED, PAYMENT_REFUNDED_OUTSIDE, WITHDRAWAL_REQUESTED,
          WITHDRAWAL_DECIDED)

Listener = Callable[..., None]

_listeners: dict[str, list[Listener]] = {event: [] for event in EVENTS}


def hook_register(event: str, listener: Listener) -> None:
    if event not in _listeners:
        raise ValueError(f"unknown payments event {event!r}; known: {', '.join(EVENTS)}")
    if listener not in _listeners[event]:
        _listeners[event].append(listener)


def hook_emit_on_commit(event: str, **ids: Any) -> None:
    """Call the event's listeners once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _emit(event, ids))


def _emit(event: str, ids: dict[str, Any]) -> None:
    for listener in list(_listeners[event]):
        try:
            listener(**ids)
        except Exception:
            logger.exception("payments %s listener %r failed", event, listener)
