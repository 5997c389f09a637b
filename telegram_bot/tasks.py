"""Django-Q2 tasks of the bot."""

import logging

logger = logging.getLogger(__name__)


def generation_notify(generation_id: int) -> None:
    """Tell the user that a generation finished (enqueued by generations on every final
    state, by dotted name). Until the bot sends messages, it only logs."""
    logger.info("generation %s finished: the user would be notified here", generation_id)
