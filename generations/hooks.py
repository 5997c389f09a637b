"""Events of a generation that a higher app (the bot) reacts to.

generations must not import telegram_bot, so the bot registers listeners in its
`AppConfig.ready` (`hook_register(GENERATION_CLAIMED, ...)`), as with payments.hooks.
Listeners are called after the transaction that caused the event commits, with ids
only, and a failing listener is logged, never propagated: a cosmetic message that
cannot be queued must not fail a worker step. Nothing is registered by default.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

GENERATION_CLAIMED = "generation_claimed"  # generation_id: a worker took it up (pending -> processing)

EVENTS = (GENERATION_CLAIMED,)

Listener = Callable[..., None]

_listeners: dict[str, list[Listener]] = {event: [] for event in EVENTS}


def hook_register(event: str, listener: Listener) -> None:
    if event not in _listeners:
        raise ValueError(f"unknown generations event {event!r}; known: {', '.join(EVENTS)}")
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
            logger.exception("generations %s listener %r failed", event, listener)
