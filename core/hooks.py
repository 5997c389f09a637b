"""Events of a lower app that higher apps react to, without the lower one importing them.

An app (payments, generations) declares its events once (`Hooks("payments", EVENTS)`);
a higher app (the bot) registers listeners in its `AppConfig.ready`. Listeners are called
after the transaction that caused the event commits, with ids only (`payment_id=7`), and
a failing listener is logged, never propagated: an alert that cannot be sent must not
undo a payment or fail a worker step. Nothing is registered by default.
"""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Listener = Callable[..., None]


class Hooks:
    def __init__(self, app: str, events: Sequence[str]) -> None:
        self.app = app
        self.events = tuple(events)
        self.listeners: dict[str, list[Listener]] = {event: [] for event in self.events}

    def register(self, event: str, listener: Listener) -> None:
        if event not in self.listeners:
            raise ValueError(f"unknown {self.app} event {event!r}; known: {', '.join(self.events)}")
        if listener not in self.listeners[event]:
            self.listeners[event].append(listener)

    def emit_on_commit(self, event: str, **ids: Any) -> None:
        """Call the event's listeners once the current transaction commits (at once outside one)."""
        transaction.on_commit(lambda: self._emit(event, ids))

    def _emit(self, event: str, ids: dict[str, Any]) -> None:
        for listener in list(self.listeners[event]):
            try:
                listener(**ids)
            except Exception:
                logger.exception("%s %s listener %r failed", self.app, event, listener)
