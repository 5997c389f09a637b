"""A small synchronous Bot API client for the web process and the worker.

The bot process talks to Telegram through python-telegram-bot; everything else
(invoice links, Stars refunds, admin alerts from a view or a task) calls
`bot_api_call`, a plain JSON POST to `{TELEGRAM_API_BASE_URL}/bot{token}/{method}`,
and `bot_file_download` for the files users send the bot (photos to edit).

Errors are classified like any outbound transport: `TelegramApiError.is_transient`
is true for network errors, 429 and 5xx (worth retrying later), false for answers
that will not change on retry (400 Bad Request, 403 Forbidden...). The token is
part of every URL, so no message, exception or log line built here contains the
URL; the exception chain is cut for the same reason (requests puts the URL into
its own exception texts).
"""

import json
import logging
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

logger = logging.getLogger(__name__)

# One pooled session per process: keeps the TLS connection to Telegram open
# between calls. requests.Session is safe for concurrent requests in practice
# (urllib3's pool is thread-safe), which is how Django's threaded servers use it.
_session = requests.Session()

class TelegramApiError(Exception):
    """A Bot API call that did not succeed.

    `error_code` is Telegram's (or the HTTP status when the answer was not the
    Bot API's JSON), None for a network error; `description` is Telegram's text
    such as "Bad Request: CHARGE_ALREADY_REFUNDED"; `retry_after` comes from
    `parameters.retry_after` on 429. `maybe_processed` is true when Telegram may have
    acted on the call all the same (the answer was lost: a read timeout, a connection
    dropped after the request went out, a proxy's page): a message sent at most once
    must not be sent again then. An answer of the Bot API itself, or a connection that
    was never made, means it did not act.
    """

    def __init__(
        self,
        *,
        method: str,
        error_code: int | None,
        description: str,
        retry_after: int | None = None,
        is_transient: bool = False,
        maybe_processed: bool = False,
    ) -> None:
        self.method = method
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.is_transient = is_transient
        self.maybe_processed = maybe_processed
        super().__init__(f"{method}: {error_code if error_code is not None else 'network error'} {description}")

    def has_description(self, text: str) -> bool:
        """Whether Telegram's description mentions `text` (e.g. CHARGE_ALREADY_REFUNDED)."""
        return text.lower() in self.description.lower()


def _transient_status(status: int) -> bool:
    return status == 429 or status >= 500


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the connection failed before the request could reach Telegram."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        # requests wraps urllib3's MaxRetryError, whose `reason` says what failed.
        reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else None
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


def bot_api_call(
    method: str,
    payload: dict[str, Any] | None = None,
    *,
    timeout: float | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Any:
    """Call a Bot API method and return its `result`; raise TelegramApiError otherwise.

    `timeout` defaults to TELEGRAM_API_TIMEOUT seconds. `files` (field name to
    (filename, content, content type)) are uploaded as multipart/form-data, the other
    fields then going as form values (objects JSON-encoded, as the Bot API reads them).
    """
    url = f"{settings.TELEGRAM_API_BASE_URL}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}"
    content: dict[str, Any]
    if files:
        form = {name: value if isinstance(value, str) else json.dumps(value) for name, value in (payload or {}).items()}
        content = {"data": form, "files": files}
    else:
        content = {"json": payload or {}}
    try:
        response = _session.post(url, **content, timeout=timeout or settings.TELEGRAM_API_TIMEOUT)
    except requests.RequestException as exc:
        # Only the exception's class: its text contains the URL, hence the token.
        raise TelegramApiError(
            method=method, error_code=None, description=type(exc).__name__, is_transient=True,
            maybe_processed=not _never_sent(exc),
        ) from None

    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "ok" not in body:
        # A proxy or load balancer answered, not the Bot API.
        raise TelegramApiError(
            method=method,
            error_code=response.status_code,
            description=f"unexpected HTTP {response.status_code} answer",
            is_transient=_transient_status(response.status_code),
            maybe_processed=True,
        )
    if body.get("ok") is True:
        return body.get("result")

    error_code = body.get("error_code")
    if not isinstance(error_code, int):
        error_code = response.status_code
    parameters = body.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    error = TelegramApiError(
        method=method,
        error_code=error_code,
        description=str(body.get("description") or ""),
        retry_after=retry_after if isinstance(retry_after, int) else None,
        is_transient=_transient_status(error_code),
    )
    logger.warning(
        "Bot API %s failed: %s %s", method, error.error_code, error.description,
        extra={"telegram_method": method, "telegram_error_code": error.error_code},
    )
    raise error


class BotFileTooLarge(Exception):
    """A file a user sent is larger than the caller takes (`size` in bytes, when known)."""

    def __init__(self, size: int | None) -> None:
        self.size = size
        super().__init__(f"file of {size if size is not None else 'unknown'} bytes is too large")


DOWNLOAD_CHUNK = 64 * 1024


def bot_file_download(file_id: str, *, max_bytes: int) -> bytes:
    """The bytes of a file a user sent the bot (a photo, a document): `getFile`, then
    its content. Raises BotFileTooLarge past `max_bytes` (nothing more is read) and
    TelegramApiError when Telegram will not give it.

    The cloud Bot API (and a self-hosted server outside --local mode) answers a path
    relative to its file route `{TELEGRAM_API_BASE_URL}/file/bot{token}/{file_path}`.
    A self-hosted server in --local mode (TELEGRAM_API_LOCAL) answers the absolute path
    of the file on its own disk and serves no file route at all: the file is read from
    that path when this machine sees the server's data directory there (a shared
    volume, mounted read-only at the same path); otherwise it is asked for on the file
    route with the absolute path, which a web server in front of the Bot API server
    must then serve (the aiogram/telegram-bot-api image's nginx does).
    """
    found = bot_api_call("getFile", {"file_id": file_id})
    file_path = str(found.get("file_path") or "") if isinstance(found, dict) else ""
    size = found.get("file_size") if isinstance(found, dict) else None
    if isinstance(size, int) and size > max_bytes:
        raise BotFileTooLarge(size)
    if not file_path:
        raise TelegramApiError(method="getFile", error_code=400, description="no file_path: cannot be downloaded")
    if settings.TELEGRAM_API_LOCAL and file_path.startswith("/"):
        try:
            return _local_file_read(file_path, max_bytes=max_bytes)
        except (FileNotFoundError, PermissionError):
            logger.info("a local Bot API server's file is not readable here: asking its file route")
    return _file_route_read(file_path, max_bytes=max_bytes)


def _local_file_read(path: str, *, max_bytes: int) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BotFileTooLarge(None)
    return data


def _file_route_read(file_path: str, *, max_bytes: int) -> bytes:
    # An absolute path (a --local server's) keeps its leading slash: .../file/bot<token>//var/lib/...,
    # the form the web servers in front of such a server expect (and python-telegram-bot sends).
    url = f"{settings.TELEGRAM_API_BASE_URL}/file/bot{settings.TELEGRAM_BOT_TOKEN}/{quote(file_path)}"
    data = bytearray()
    try:
        with _session.get(url, stream=True, timeout=settings.TELEGRAM_API_TIMEOUT) as response:
            if response.status_code != 200:
                raise TelegramApiError(
                    method="file", error_code=response.status_code,
                    description=f"HTTP {response.status_code} for the file",
                    is_transient=_transient_status(response.status_code),
                )
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise BotFileTooLarge(None)
    except requests.RequestException as exc:
        # Only the exception's class: its text contains the URL, hence the token.
        raise TelegramApiError(
            method="file", error_code=None, description=type(exc).__name__, is_transient=True
        ) from None
    return bytes(data)
