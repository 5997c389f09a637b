"""The bot's webhook server: where Telegram POSTs updates in webhook mode.

It listens on TELEGRAM_WEBHOOK_PORT behind the TLS proxy that TELEGRAM_WEBHOOK_URL
points at; the port itself must not be reachable from the internet. It is our own
small tornado application rather than python-telegram-bot's `run_webhook` server,
which reads a whole body (up to 100 MB) before it looks at the secret token and
compares the token with `!=`. Here a request is judged on its headers alone, before
one byte of its body is read:

- no Content-Length: 411; longer than TELEGRAM_WEBHOOK_MAX_BODY_BYTES: 413 (the
  connection is then closed unread; Telegram's updates are a few kilobytes);
- a wrong or missing X-Telegram-Bot-Api-Secret-Token: 403, compared in constant
  time (no timing leak of the secret);
- then the body is read (at most the limit) and must be a JSON object (else 400);
  `accept` takes it, and the answer is 200.

`accept` is the one seam for what happens to an update: today it hands it to the
python-telegram-bot Application's queue (`webhook_run`).
"""

import asyncio
import hmac
import json
import logging
import re
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import tornado.web
from django.conf import settings
from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, ExtBot
from tornado.httpserver import HTTPServer

logger = logging.getLogger("telegram_bot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
# Telegram opens at most this many connections at once (setWebhook's default).
MAX_CONNECTIONS = 40
# A client that sends its headers, then its body slower than this, is dropped.
BODY_TIMEOUT_SECONDS = 10.0

UpdateAccept = Callable[[dict[str, Any]], Awaitable[None]]


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(self, *, accept: UpdateAccept, secret: str, max_body_bytes: int) -> None:
        self.accept = accept
        self.secret = secret.encode()
        self.max_body_bytes = max_body_bytes
        self.body = bytearray()

    def prepare(self) -> None:
        """Runs once the headers are in, before the body is read."""
        length = self.request.headers.get("Content-Length", "")
        if not length.isdigit():
            self._refuse(411, "Length Required")
        elif int(length) > self.max_body_bytes:
            self._refuse(413, "Payload Too Large")
        elif not hmac.compare_digest(self.request.headers.get(SECRET_HEADER, "").encode(), self.secret):
            self._refuse(403, "Forbidden")

    def data_received(self, chunk: bytes) -> None:
        # The server's max_body_size (the same limit) stops a body longer than it said.
        self.body += chunk

    async def post(self) -> None:
        try:
            data = json.loads(self.body)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            self._refuse(400, "Bad Request")
            return
        await self.accept(data)
        self.finish()

    def _refuse(self, status: int, reason: str) -> None:
        logger.info("webhook request refused: %s %s", status, reason)
        self.set_status(status, reason)
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        logger.error("webhook handler failed", exc_info=(typ, value, tb))


def webhook_server_start(
    *, listen: str, port: int, path: str, secret: str, max_body_bytes: int, accept: UpdateAccept
) -> HTTPServer:
    """Start serving POST `path` on `listen`:`port` in the running event loop."""
    if not secret:
        raise ValueError("the webhook needs a secret token")
    route = re.escape(path.rstrip("/") or "") + "/?"
    application = tornado.web.Application(
        [(route, _UpdateHandler, {"accept": accept, "secret": secret, "max_body_bytes": max_body_bytes})],
        log_function=lambda handler: None,  # refusals are logged above; successes are the bot's business
    )
    server = HTTPServer(application, max_body_size=max_body_bytes, body_timeout=BODY_TIMEOUT_SECONDS)
    server.listen(port, address=listen)
    return server


async def _with_retries(action: Callable[[], Awaitable[Any]], *, what: str, retries: int) -> None:
    """Bootstrap calls (getMe, setWebhook): Telegram may be unreachable for a moment."""
    for attempt in range(retries + 1):
        try:
            await action()
            return
        except InvalidToken:
            raise
        except RetryAfter as exc:
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
        except NetworkError as exc:
            if attempt == retries:
                raise
            logger.warning("%s failed (%s); retrying", what, exc)
            delay = 1.0
        await asyncio.sleep(delay)
    raise RuntimeError(f"{what} failed {retries + 1} times")


async def webhook_run(
    application: Application[Any, Any, Any, Any, Any, Any], *, listen: str, port: int, path: str, webhook_url: str,
    secret: str, allowed_updates: list[str], bootstrap_retries: int,
) -> None:
    """Run the bot in webhook mode until SIGTERM or SIGINT: register the webhook,
    serve it, hand each update to the Application; on a signal, stop taking
    updates, let the ones being handled finish, and return."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    await _with_retries(application.initialize, what="getMe", retries=bootstrap_retries)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await _with_retries(
            lambda: application.bot.set_webhook(
                url=webhook_url, secret_token=secret, allowed_updates=allowed_updates, max_connections=MAX_CONNECTIONS
            ),
            what="setWebhook", retries=bootstrap_retries,
        )
        await application.start()

        async def accept(data: dict[str, Any]) -> None:
            update = Update.de_json(data, application.bot)
            if isinstance(application.bot, ExtBot):
                application.bot.insert_callback_data(update)
            await application.update_queue.put(update)

        server = webhook_server_start(
            listen=listen, port=port, path=path, secret=secret,
            max_body_bytes=settings.TELEGRAM_WEBHOOK_MAX_BODY_BYTES, accept=accept,
        )
        try:
            await stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()
            await application.stop()
    finally:
        await application.shutdown()
