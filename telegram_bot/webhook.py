"""The bot's webhook server: an update is acknowledged only once it is stored.

python-telegram-bot's own webhook server answers Telegram 200 before any handler
runs, so an update that then meets a database outage is gone: Telegram never
sends an update again once it got a 2xx. This small tornado server (tornado comes
with python-telegram-bot[webhooks] and runs on the same asyncio loop) answers:

- 411 without a Content-Length (Telegram always sends one), and 413 for a body over
  TELEGRAM_WEBHOOK_MAX_BODY_BYTES (Telegram's updates are a few kilobytes), judged
  on the headers before any of the body is read;
- 403 without the right X-Telegram-Bot-Api-Secret-Token (compared in constant
  time), also before reading any of the body;
- 400 for a body that is not an update (JSON object with an integer update_id);
- 503 when the update could not be stored: Telegram delivers it again later;
- 200 once the update is committed to the database; processing follows in the
  background (`telegram_bot.intake`).

It listens on TELEGRAM_WEBHOOK_PORT behind the TLS proxy that TELEGRAM_WEBHOOK_URL
points at; the port itself should not be reachable from the internet.
"""

import hmac
import json
import logging
import re
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler, stream_request_body

from telegram_bot.intake import Intake
from telegram_bot.services import UpdateInvalid, update_id_of

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


@stream_request_body
class _UpdateHandler(RequestHandler):
    intake: Intake
    secret: bytes
    max_body_bytes: int

    def initialize(self, *, intake: Intake, secret: str, max_body_bytes: int) -> None:
        self.intake = intake
        self.secret = secret.encode()
        self.max_body_bytes = max_body_bytes
        self._chunks: list[bytes] = []
        self._size = 0

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish()

    def prepare(self) -> None:
        # Runs once the headers are in, before any of the body is read.
        if self.request.method != "POST":
            return  # tornado answers 405
        length = self.request.headers.get("Content-Length")
        if length is None:
            self._refuse(411)
            return
        if not length.isdigit() or int(length) > self.max_body_bytes:
            self._refuse(413)
            return
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self._refuse(403)

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._size += len(chunk)
        if self._size > self.max_body_bytes:  # more than its Content-Length promised
            self._chunks.clear()
            self._refuse(413)
            return
        self._chunks.append(chunk)

    async def post(self) -> None:
        if self._finished:
            return
        try:
            payload = json.loads(b"".join(self._chunks))
            update_id_of(payload)
        except (ValueError, UpdateInvalid):
            self._refuse(400)
            return
        try:
            await self.intake.receive(payload)
        except Exception:
            logger.exception("update %s could not be stored: answered 503, Telegram delivers it again",
                             payload.get("update_id"))
            self._refuse(503)
            return
        self._refuse(200)

    def log_exception(self, *args: Any) -> None:
        # A client that sends garbage (tornado's HTTPInputError) is not our error.
        logger.debug("webhook request failed", exc_info=args)


class WebhookServer:
    """The HTTP server on `port`, serving `path` only."""

    def __init__(self, *, intake: Intake, path: str, secret: str, max_body_bytes: int) -> None:
        self.application = TornadoApplication(
            [(re.escape(path), _UpdateHandler, {"intake": intake, "secret": secret, "max_body_bytes": max_body_bytes})],
        )
        self._server: HTTPServer | None = None

    def listen(self, *, address: str, port: int) -> None:
        self._server = HTTPServer(self.application, xheaders=False)
        self._server.listen(port, address=address)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
