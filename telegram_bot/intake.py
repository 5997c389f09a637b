"""From a stored update to the bot's handlers, exactly once per update_id.

Every way an update reaches the bot goes through here: the webhook server and the
polling loop (`Intake.receive`: store, then process in the background), the
worker's retries (`update_process_now`) and the tests' `feed`. `update_process`
claims the stored update (a repeat, or an update another process has, stops
there), runs python-telegram-bot's `process_update` with every handler, and marks
the update processed, or failed when any handler raised: then the worker tries it
again later, and after TELEGRAM_UPDATE_MAX_ATTEMPTS staff see it in the admin.

Handlers must run blocking (python-telegram-bot's default, `block=True`): the
update counts as processed when `process_update` returns.
"""

import asyncio
import contextvars
import enum
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from django.conf import settings
from telegram import Update
from telegram.ext import ContextTypes

from core.logging import log_context, redact
from telegram_bot import services
from telegram_bot.orm import db, db_apart

if TYPE_CHECKING:
    from telegram_bot.handler_helpers import BotApplication

logger = logging.getLogger(__name__)

# The errors the handlers raised while the current update was processed (python-
# telegram-bot hands them to error handlers, not to the caller of process_update).
_handler_errors: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "telegram_bot_handler_errors", default=None
)


STORE_THREADS = 2


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    FAILED = "failed"  # to be retried by the worker, or given up for staff
    SKIPPED = "skipped"  # not ours to process: processed, claimed by another, or not yet due


async def handler_error_record(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An error handler (registered before the others): remember that a handler of
    the update being processed failed, so that it is not marked processed."""
    errors = _handler_errors.get()
    if errors is not None and context.error is not None:
        errors.append(context.error)


def _error_text(error: BaseException) -> str:
    return redact(f"{type(error).__name__}: {error}")[:500]


async def update_process(application: "BotApplication", *, update_id: int) -> Outcome:
    """Claim a stored update and run the handlers on it; see the module docstring."""
    claim = await db(services.update_claim)(update_id=update_id)
    if claim is None:
        return Outcome.SKIPPED
    errors: list[BaseException] = []
    token = _handler_errors.set(errors)
    try:
        with log_context(update_id=update_id):
            update = Update.de_json(claim.payload, application.bot)
            await application.process_update(update)
    except Exception as exc:  # not a handler's: the update itself could not be read
        logger.exception("update %s could not be processed", update_id)
        errors.append(exc)
    finally:
        _handler_errors.reset(token)
    if errors:
        await db(services.update_failed)(update_id=update_id, attempt=claim.attempt, error=_error_text(errors[0]))
        return Outcome.FAILED
    await db(services.update_processed)(update_id=update_id, attempt=claim.attempt)
    return Outcome.PROCESSED


def update_process_now(*, update_id: int) -> str:
    """The worker's way in (a Django-Q2 task, synchronous): a short-lived Application
    on an event loop of its own; the database work runs in the calling thread."""

    async def run() -> Outcome:
        from telegram_bot.application import application_build

        application = application_build()
        async with application:
            return await update_process(application, update_id=update_id)

    return str(async_to_sync(run)())


class Intake:
    """The bot process's receiver: stores each update, then processes it in a task
    of its own, at most TELEGRAM_BOT_CONCURRENT_UPDATES at a time."""

    def __init__(self, application: "BotApplication") -> None:
        self.application = application
        self._slots = asyncio.Semaphore(settings.TELEGRAM_BOT_CONCURRENT_UPDATES)
        self._tasks: set[asyncio.Task[Any]] = set()
        # Storing has threads (and connections) of its own: an acknowledgement never
        # waits behind a handler's database work (a lock wait, a slow query) in
        # Django's one sync thread, which would make Telegram time out and resend.
        self._store_threads = ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="update-store")

    async def receive(self, payload: dict[str, Any]) -> services.StoreResult:
        """Store the update; when this returns it is committed and may be acknowledged.
        Raises UpdateInvalid, or the database's error (then do not acknowledge)."""
        stored = await db_apart(services.update_store, self._store_threads)(payload=payload)
        if stored.waiting:
            self.schedule(stored.update_id)
        return stored

    def schedule(self, update_id: int) -> None:
        task = asyncio.create_task(self._process(update_id), name=f"update-{update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, update_id: int) -> None:
        async with self._slots:
            try:
                await update_process(self.application, update_id=update_id)
            except Exception:
                # The database failed around the handlers: the update stays stored
                # (pending, or claimed until its lease runs out) for the worker.
                logger.exception("update %s: left for the worker to process", update_id)

    async def drain(self, *, timeout: float) -> None:
        """Let the updates being processed finish (bounded); the rest are cancelled and
        left to the worker, which takes them over when their claims' leases run out."""
        pending = set(self._tasks)
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            logger.warning("%s updates still in progress at shutdown: left to the worker", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    def close(self) -> None:
        """Stop the storing threads (their connections end with the process)."""
        self._store_threads.shutdown(wait=True)
