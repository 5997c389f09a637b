"""The bot process (`manage.py runbot`): start-up, the webhook server or the polling
loop, and a clean stop on SIGTERM or SIGINT.

Start: the Application is initialised (getMe) and its commands and menu button
set; in webhook mode the server listens before setWebhook tells Telegram where it
is; in polling mode deleteWebhook first (a leftover webhook would block
getUpdates). Stop: no new update is taken, the updates being processed get
STOP_GRACE_SECONDS to finish (what is left is the worker's, see
`telegram_bot.intake`), then the Application shuts down.
"""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from telegram.error import NetworkError, RetryAfter

from telegram_bot.application import ALLOWED_UPDATES, application_build
from telegram_bot.handler_helpers import BotApplication
from telegram_bot.intake import Intake
from telegram_bot.polling import polling_run
from telegram_bot.webhook import WebhookServer

logger = logging.getLogger("telegram_bot.runbot")

# Start-up calls to Telegram are tried this often (it may be briefly unreachable).
BOOTSTRAP_ATTEMPTS = 5
STOP_GRACE_SECONDS = 20.0

T = TypeVar("T")


async def _with_retries(what: str, call: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(1, BOOTSTRAP_ATTEMPTS + 1):
        try:
            return await call()
        except (NetworkError, RetryAfter) as exc:  # NetworkError includes TimedOut
            if attempt == BOOTSTRAP_ATTEMPTS:
                raise
            delay = exc.retry_after if isinstance(exc, RetryAfter) else 2 ** (attempt - 1)
            seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            logger.warning("%s failed (%s); trying again in %ss", what, exc, seconds)
            await asyncio.sleep(seconds)
    raise AssertionError("unreachable")


def bot_run(*, listen: str) -> None:
    """Run the bot until SIGTERM or SIGINT."""
    asyncio.run(_run(listen=listen))


async def _run(*, listen: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    application = application_build()
    await _with_retries("getMe", application.initialize)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        intake = Intake(application)
        if settings.TELEGRAM_WEBHOOK_URL:
            await _serve_webhook(application, intake, listen=listen, stop=stop)
        else:
            await _poll(application, intake, stop=stop)
        await intake.drain(timeout=STOP_GRACE_SECONDS)
        intake.close()
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()


async def _serve_webhook(application: BotApplication, intake: Intake, *, listen: str, stop: asyncio.Event) -> None:
    path = urlsplit(settings.TELEGRAM_WEBHOOK_URL).path or "/"
    server = WebhookServer(
        intake=intake, path=path, secret=settings.TELEGRAM_WEBHOOK_SECRET,
        max_body_bytes=settings.TELEGRAM_WEBHOOK_MAX_BODY_BYTES,
    )
    server.listen(address=listen, port=settings.TELEGRAM_WEBHOOK_PORT)
    logger.info("bot starting: webhook %s, listening on %s:%s%s", settings.TELEGRAM_WEBHOOK_URL, listen,
                settings.TELEGRAM_WEBHOOK_PORT, path)
    try:
        await _with_retries("setWebhook", lambda: application.bot.set_webhook(
            url=settings.TELEGRAM_WEBHOOK_URL,
            secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
            allowed_updates=ALLOWED_UPDATES,
        ))
        await stop.wait()
    finally:
        await server.stop()


async def _poll(application: BotApplication, intake: Intake, *, stop: asyncio.Event) -> None:
    logger.info("bot starting: long polling (TELEGRAM_WEBHOOK_URL is not set)")
    await _with_retries("deleteWebhook", application.bot.delete_webhook)
    await polling_run(intake, allowed_updates=ALLOWED_UPDATES, stop=stop)
