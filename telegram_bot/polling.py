"""Long polling with the webhook's guarantee: an update is stored before the offset
that makes Telegram forget it is sent.

getUpdates confirms every update below the `offset` it is called with. The loop
stores each fetched update first (`Intake.receive`) and only then moves the
offset past it; when the database refuses, the offset stays and the same updates
come again on the next call (those stored already are recognised as repeats).
The raw JSON is fetched with the project's plain Bot API client, in a thread, so
what is stored is exactly what Telegram sent.
"""

import asyncio
import logging

from core.scheduling import backoff_seconds
from core.telegram_api import TelegramApiError, bot_api_call
from telegram_bot.intake import Intake
from telegram_bot.services import UpdateInvalid, update_id_of

logger = logging.getLogger(__name__)

# Seconds a getUpdates call waits for an update (Telegram answers at once when one is there).
POLL_TIMEOUT_SECONDS = 10
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def polling_run(intake: Intake, *, allowed_updates: list[str], stop: asyncio.Event) -> None:
    """Poll until `stop` is set."""
    offset = 0
    failures = 0
    while not stop.is_set():
        try:
            raw_updates = await asyncio.to_thread(
                bot_api_call,
                "getUpdates",
                {"offset": offset, "timeout": POLL_TIMEOUT_SECONDS, "allowed_updates": allowed_updates},
                timeout=POLL_TIMEOUT_SECONDS + 10,
            )
            next_offset = offset
            for payload in raw_updates or []:
                try:
                    update_id = update_id_of(payload)
                except UpdateInvalid:
                    logger.error("getUpdates returned something that is not an update: skipped")
                    continue
                await intake.receive(payload)
                next_offset = max(next_offset, update_id + 1)
            # Everything up to here is stored: the next call may confirm it.
            offset = next_offset
            failures = 0
        except TelegramApiError as exc:
            failures += 1
            delay = exc.retry_after or backoff_seconds(attempt=failures, base=RETRY_BASE_SECONDS,
                                                       maximum=RETRY_MAX_SECONDS)
            logger.warning("getUpdates failed (%s); polling again in %ss", exc, delay)
            await _pause(stop, delay)
        except Exception:
            # The database refused an update: the offset stays, so Telegram keeps it.
            failures += 1
            delay = backoff_seconds(attempt=failures, base=RETRY_BASE_SECONDS, maximum=RETRY_MAX_SECONDS)
            logger.exception("an update could not be stored; fetching it again in %ss", delay)
            await _pause(stop, delay)
