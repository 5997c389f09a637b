"""A fake Telegram Bot API server for tests.

`FakeTelegram` serves `/bot<token>/<method>` on 127.0.0.1 (port 0, in a thread)
with the Bot API's envelope (`{"ok": true, "result": ...}` or `{"ok": false,
"error_code", "description", "parameters"}`). It accepts JSON bodies (requests,
our `core.telegram_api`), form bodies and multipart bodies (python-telegram-bot
sends form data, and multipart when it uploads a file), the query string too, and
records every call thread-safely.

- Defaults: sensible results for the methods the project uses (`DEFAULT_RESULTS`);
  an unknown method answers 404 "Not Found" like Telegram, so a typo fails a test.
- Strict as Telegram (`telegram_rules`): texts over 4096 and captions over 1024
  characters, `callback_data` over 64 bytes, malformed HTML with `parse_mode=HTML`,
  photos over 10 MB or of impossible dimensions, uploads over 50 MB, a `web_app` button
  outside a private chat get Telegram's own errors; parameters a method does not have
  are refused (Telegram would silently ignore them: a typo must fail a test).
- `fake.fail(method, error_code=..., description=..., retry_after=..., times=...)`
  scripts failures; `fake.respond(method, result_or_callable)` replaces a result.
- `fake.push_update(update)` queues an update for `getUpdates` (long polling).
- `fake.stars` is Telegram's side of Stars payments, refunds and subscriptions
  (getStarTransactions, editUserStarSubscription...): tests/fakes/telegram_stars.py.
- The bot as a client (`fake.client`, a `ClientState`): edits must name a message the
  bot sent and change it; each callback and inline query is answered once; albums,
  inline answers and prepared messages are checked against Telegram's limits;
  `fake.client.add_file(content)` is a file a user sent, served by `getFile` and the
  download route `/file/bot<token>/<file_path>` (`fake.client.local_mode(dir)`: as a
  self-hosted server in --local mode, absolute paths on its disk and no file route);
  `fake.rate_limit(method, retry_after=N)` scripts Telegram's 429 flood control.
- `fake.calls`, `fake.calls_to(method)`, `fake.last(method)` and
  `fake.wait_for(method, count=1)` (bounded polling, no sleeps) inspect traffic.
- `fake.global_rate_limit(per_second)` makes it enforce Telegram's global limit on messages
  (429 with `retry_after` past it, as Telegram answers a bot that sends too fast), and
  `fake.latency(seconds)` makes every answer take that long, as over the internet.

Form values are strings, as sent; those that are JSON objects or arrays
(python-telegram-bot encodes `reply_markup`, `prices`... that way) are decoded.
Uploaded files become `FakeFile` values.
"""

import collections
import email.parser
import email.policy
import itertools
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from tests.fakes.telegram_rules import CAPTION_MAX_LENGTH, PARAMETERS, refusal, utf16_length
from tests.fakes.telegram_stars import FakeApiError, FakeStars, stars_methods

BOT_ID = 777000111
BOT_USERNAME = "nanogen_test_bot"
# What Telegram's global limit of messages per second counts.
MESSAGE_METHODS = ("sendMessage", "sendPhoto", "sendVideo", "sendAnimation", "sendDocument", "sendMediaGroup",
                   "copyMessage", "forwardMessage")

ResultFactory = Callable[["FakeCall"], Any]


@dataclass(frozen=True)
class FakeFile:
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class FakeCall:
    method: str
    params: dict[str, Any]
    token: str
    http_method: str = "POST"

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@dataclass
class _ScriptedFailure:
    error_code: int
    description: str
    retry_after: int | None
    remaining: int | None  # None: every call from now on
    parameters: dict[str, Any] = field(default_factory=dict)


def _message(call: FakeCall, message_id: int, **content: Any) -> dict[str, Any]:
    chat_id = call.get("chat_id", 0)
    try:
        chat_id = int(chat_id)
    except (TypeError, ValueError):
        pass
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "NanoGen", "username": BOT_USERNAME},
        **content,
    }


def _file_id(value: Any, prefix: str) -> str:
    if isinstance(value, FakeFile):
        return f"{prefix}-{value.filename or 'upload'}-{value.size}"
    return str(value)


class FakeTelegram:
    """A Bot API server on 127.0.0.1; see the module docstring."""

    def __init__(self, *, token: str | None = None) -> None:
        # With a token set, other tokens get 401 Unauthorized like Telegram.
        self.token = token
        self._lock = threading.Condition()
        self._calls: list[FakeCall] = []
        self._failures: dict[str, list[_ScriptedFailure]] = {}
        self._responses: dict[str, Any] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stars = FakeStars()  # Telegram Stars: tests/fakes/telegram_stars.py
        # What the bot as a client needs (messages it edits, files it downloads...): see ClientState.
        self.client = ClientState()

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> "FakeTelegram":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def bot_base_url(self) -> str:
        """The `base_url` python-telegram-bot wants (it appends the token)."""
        return f"{self.base_url}/bot"

    # --- scripting -------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        error_code: int = 400,
        description: str = "Bad Request",
        retry_after: int | None = None,
        times: int | None = 1,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """The next `times` calls of `method` (every call with times=None) fail like this."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _ScriptedFailure(error_code, description, retry_after, times, dict(parameters or {}))
            )

    def respond(self, method: str, result: Any) -> None:
        """Answer `method` with `result` (or `result(call)` when callable) instead of the default."""
        with self._lock:
            self._responses[method] = result

    def rate_limit(self, method: str, *, retry_after: int, times: int | None = 1) -> None:
        """The next `times` calls of `method` get Telegram's flood control: 429 with `retry_after`."""
        self.fail(method, error_code=429, description=f"Too Many Requests: retry after {retry_after}",
                  retry_after=retry_after, times=times)

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self._lock:
            update = dict(update)
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            self._lock.notify_all()
            return update["update_id"]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._responses.clear()
            self._updates.clear()
            self.__dict__.pop("_ok_calls", None)  # what `delivered` reports
        self.stars = FakeStars()

    # --- inspection ------------------------------------------------------------------
    @property
    def calls(self) -> list[FakeCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[FakeCall]:
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def last(self, method: str) -> FakeCall:
        calls = self.calls_to(method)
        assert calls, f"{method} was never called; calls: {[c.method for c in self.calls]}"
        return calls[-1]

    def wait_for(self, method: str, *, count: int = 1, timeout: float = 10.0) -> list[FakeCall]:
        """Block until `method` was called `count` times (bounded); return those calls."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                calls = [call for call in self._calls if call.method == method]
                if len(calls) >= count:
                    return calls
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{method} called {len(calls)} times, expected {count} within {timeout}s")
                self._lock.wait(remaining)

    # --- serving (called from the handler threads) -------------------------------------
    def _handle(self, call: FakeCall) -> tuple[int, dict[str, Any]]:
        if self._latency_seconds:
            time.sleep(self._latency_seconds)
        with self._lock:
            self._calls.append(call)
            self._lock.notify_all()
            if self.token is not None and call.token != self.token:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            # As strict as Telegram (telegram_rules): what it refuses, refused the same way.
            scripted_only = call.method in self._responses and call.method not in PARAMETERS
            refused = None if scripted_only else refusal(call.method, call.params, file_type=FakeFile)
            if refused is not None:
                status, description = refused
                return status, {"ok": False, "error_code": status, "description": description}
            limited = self._global_rate_limited(call)
            if limited is not None:
                return limited
            failure = self._take_failure(call.method)
            response = self._responses.get(call.method)
        if failure is not None:
            parameters = dict(failure.parameters)
            if failure.retry_after is not None:
                parameters["retry_after"] = failure.retry_after
            body: dict[str, Any] = {"ok": False, "error_code": failure.error_code, "description": failure.description}
            if parameters:
                body["parameters"] = parameters
            return failure.error_code, body
        if call.method == "getUpdates" and response is None:
            return 200, {"ok": True, "result": self._get_updates(call)}
        if response is not None:
            return 200, {"ok": True, "result": response(call) if callable(response) else response}
        default = DEFAULT_RESULTS.get(call.method)
        if default is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = default(self, call)
        except FakeApiError as exc:  # a method refusing what Telegram refuses
            return exc.error_code, {"ok": False, "error_code": exc.error_code, "description": exc.description}
        self.client.remember_sent(call, result)
        return 200, {"ok": True, "result": result}

    def _take_failure(self, method: str) -> _ScriptedFailure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
        return failure

    def _get_updates(self, call: FakeCall) -> list[dict[str, Any]]:
        offset = int(call.get("offset") or 0)
        # Long polling: wait a little for an update, never long (tests stay fast and
        # a stopping bot is not held up).
        wait = min(float(call.get("timeout") or 0), 0.5)
        deadline = time.monotonic() + wait
        with self._lock:
            # Telegram forgets updates below the offset: they were confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and (remaining := deadline - time.monotonic()) > 0:
                self._lock.wait(remaining)
            limit = int(call.get("limit") or 100)
            return list(self._updates[:limit])

    def next_message_id(self) -> int:
        return next(self._message_ids)

    # --- the global message rate limit (broadcasts) and network latency ----------------------
    _rate_per_second: int | None = None
    _rate_methods: frozenset[str] = frozenset()
    _rate_window: "collections.deque[float] | None" = None
    _latency_seconds: float = 0.0
    global_rate_limited = 0  # how many calls got 429 from the limit
    # The limit's clock; a test may replace it to step through time.
    global_rate_clock: Callable[[], float] = staticmethod(time.monotonic)

    def global_rate_limit(self, per_second: int | None, *, methods: tuple[str, ...] = MESSAGE_METHODS) -> None:
        """At most `per_second` calls of `methods` accepted in any one second, all chats
        together, like Telegram's limit for a bot; the next get 429 with the seconds until
        a call leaves the window as `retry_after`. None lifts the limit."""
        with self._lock:
            self._rate_per_second = per_second
            self._rate_methods = frozenset(methods)
            self._rate_window = collections.deque()
            self.global_rate_limited = 0

    def delivered(self, method: str) -> list[FakeCall]:
        """The calls of `method` that were answered ok (a message Telegram would have delivered)."""
        with self._lock:
            return [call for call in self.__dict__.get("_ok_calls", []) if call.method == method]

    def _answered(self, call: FakeCall, body: dict[str, Any]) -> None:
        if body.get("ok") is True and call.method in MESSAGE_METHODS:
            with self._lock:
                self.__dict__.setdefault("_ok_calls", []).append(call)

    def latency(self, seconds: float) -> None:
        """Every answer takes `seconds` (the calls still overlap, as they would over the internet)."""
        self._latency_seconds = seconds

    def _global_rate_limited(self, call: FakeCall) -> tuple[int, dict[str, Any]] | None:
        """Called under the lock: 429 when the call is over the limit, else counts it."""
        if self._rate_per_second is None or call.method not in self._rate_methods or self._rate_window is None:
            return None
        now = self.global_rate_clock()
        window = self._rate_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self._rate_per_second:
            self.global_rate_limited += 1
            retry_after = max(1, math.ceil(window[0] + 1.0 - now))
            return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
                         "parameters": {"retry_after": retry_after}}
        window.append(now)
        return None


def _send_message(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    return _message(call, fake.next_message_id(), text=call.get("text", ""))


def _send_photo(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    file_id = _file_id(call.get("photo"), "photo")
    photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 1024, "height": 1024}]
    return _message(call, fake.next_message_id(), photo=photo, caption=call.get("caption", ""))


def _send_video(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    file_id = _file_id(call.get("video"), "video")
    video = {"file_id": file_id, "file_unique_id": file_id, "width": 1280, "height": 720, "duration": 5}
    return _message(call, fake.next_message_id(), video=video, caption=call.get("caption", ""))


def _send_animation(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    file_id = _file_id(call.get("animation"), "animation")
    animation = {"file_id": file_id, "file_unique_id": file_id, "width": 512, "height": 512, "duration": 2}
    return _message(call, fake.next_message_id(), animation=animation, document=animation,
                    caption=call.get("caption", ""))


def _send_document(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    file_id = _file_id(call.get("document"), "document")
    return _message(call, fake.next_message_id(), document={"file_id": file_id, "file_unique_id": file_id})


def _send_invoice(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    prices = call.get("prices") or []
    total = sum(int(p.get("amount", 0)) for p in prices if isinstance(p, dict))
    invoice = {
        "title": call.get("title", ""),
        "description": call.get("description", ""),
        "start_parameter": call.get("start_parameter", ""),
        "currency": call.get("currency", ""),
        "total_amount": total,
    }
    return _message(call, fake.next_message_id(), invoice=invoice)


def _create_invoice_link(fake: FakeTelegram, call: FakeCall) -> str:
    return f"https://t.me/$fakeinvoice{fake.next_message_id()}"


def _get_me(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "NanoGen",
        "username": BOT_USERNAME,
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": True,
    }


def _true(fake: FakeTelegram, call: FakeCall) -> bool:
    return True


DEFAULT_RESULTS: dict[str, Callable[[FakeTelegram, FakeCall], Any]] = {
    "getMe": _get_me,
    "logOut": _true,
    "close": _true,
    "setWebhook": _true,
    "deleteWebhook": _true,
    "getWebhookInfo": lambda fake, call: {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
    "setMyCommands": _true,
    "deleteMyCommands": _true,
    "setMyDescription": _true,
    "setMyShortDescription": _true,
    "setChatMenuButton": _true,
    "sendMessage": _send_message,
    "sendPhoto": _send_photo,
    "sendVideo": _send_video,
    "sendAnimation": _send_animation,
    "sendDocument": _send_document,
    "sendChatAction": _true,
    "deleteMessage": _true,
    "sendInvoice": _send_invoice,
    "createInvoiceLink": _create_invoice_link,
    "answerPreCheckoutQuery": _true,
}

# --- Telegram Stars (tests/fakes/telegram_stars.py): transactions, refunds, subscriptions,
# and the invoice methods with Telegram's checks in front.
DEFAULT_RESULTS.update(stars_methods(create_invoice_link=_create_invoice_link, send_invoice=_send_invoice))


# --- the bot as a client: edits, albums, callback and inline answers, prepared messages, files ------
# What telegram_rules checks for every method (parameters, texts, captions, callback
# data) comes first; these add what needs state (the messages sent, the queries
# answered, the files users sent) and the limits of these methods themselves.
CALLBACK_ANSWER_TEXT_MAX = 200
MEDIA_GROUP_SIZES = range(2, 11)
INLINE_RESULTS_MAX = 50
INLINE_ID_MAX_BYTES = 64
# The cloud Bot API lets a bot download files up to 20 MB.
DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024
# Where a self-hosted server keeps its files when the tests' machine cannot see its disk.
LOCAL_SERVER_DIR = Path("/var/lib/telegram-bot-api/123456:TEST-TOKEN")
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ClientState:
    """What Telegram remembers for these methods: the messages the bot sent (an edit
    must name one, and change it), the callback and inline queries already answered
    (each is answered once), and the files users sent (for getFile and the file route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._answered: set[str] = set()
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_numbers = itertools.count(1)
        self.local_mode_on = False
        self.local_dir: Path | None = None
        self.route_serves_local_paths = False

    def local_mode(self, directory: Path | None = None, *, route_serves_local_paths: bool = False) -> None:
        """Answer getFile as a self-hosted Bot API server in --local mode: the absolute
        path of the file on the server's disk, no 20 MB limit, and no file route (the
        real server has none) unless `route_serves_local_paths` (a web server in front
        of it, like the aiogram/telegram-bot-api image's nginx, serves
        /file/bot<token>/<absolute path>). `directory`: the server's disk as this
        machine sees it (a shared volume; getFile writes the file there); None: on
        another machine (paths under /var/lib/telegram-bot-api, absent here)."""
        self.local_mode_on = True
        self.local_dir = directory
        self.route_serves_local_paths = route_serves_local_paths

    def local_path(self, file_path: str) -> Path:
        return (self.local_dir or LOCAL_SERVER_DIR) / file_path

    def remember_sent(self, call: FakeCall, result: Any) -> None:
        messages = result if isinstance(result, list) else [result]
        with self._lock:
            for message in messages:
                if isinstance(message, dict) and "message_id" in message and "chat" in message:
                    stored = dict(message)
                    if call.get("reply_markup"):
                        stored["reply_markup"] = call.get("reply_markup")
                    self._messages[(int(message["chat"]["id"]), int(message["message_id"]))] = stored

    def message(self, chat_id: Any, message_id: Any) -> dict[str, Any] | None:
        """A message the bot sent (as last edited), or None."""
        try:
            key = (int(chat_id), int(message_id))
        except (TypeError, ValueError):
            return None
        with self._lock:
            return self._messages.get(key)

    def answer_once(self, query_id: str) -> bool:
        with self._lock:
            if not query_id or query_id in self._answered:
                return False
            self._answered.add(query_id)
            return True

    def add_file(self, content: bytes, *, extension: str = "jpg") -> str:
        """A file a user sent (a photo...): its file_id, for getFile and the file route."""
        number = next(self._file_numbers)
        file_id = f"AgACAgIAAxkBAAI{number:06d}"
        with self._lock:
            self._files[file_id] = (f"photos/file_{number}.{extension}", content)
        return file_id

    def file(self, file_id: str) -> tuple[str, bytes] | None:
        with self._lock:
            return self._files.get(file_id)

    def file_content(self, file_path: str) -> bytes | None:
        with self._lock:
            files = list(self._files.values())
        if file_path.startswith("/"):
            # A --local server's absolute path: only a web server in front of it serves those.
            if not (self.local_mode_on and self.route_serves_local_paths):
                return None
            return next((content for path, content in files if str(self.local_path(path)) == file_path), None)
        if self.local_mode_on:
            return None  # a --local server has no file route
        return next((content for path, content in files if path == file_path), None)


def _chat_and_message(call: FakeCall) -> tuple[Any, Any]:
    return call.get("chat_id"), call.get("message_id")


def _edit_message_text(fake: FakeTelegram, call: FakeCall) -> dict[str, Any] | bool:
    # The text itself (empty, too long, bad HTML) is checked by telegram_rules first.
    text = str(call.get("text") or "")
    if call.get("inline_message_id"):
        return True
    stored = fake.client.message(*_chat_and_message(call))
    if stored is None:
        raise FakeApiError("Bad Request: message to edit not found")
    if "text" not in stored:
        raise FakeApiError("Bad Request: there is no text in the message to edit")
    markup = call.get("reply_markup")
    if stored["text"] == text and stored.get("reply_markup") == markup:
        raise FakeApiError(
            "Bad Request: message is not modified: specified new message content and reply markup are exactly "
            "the same as a current content and reply markup of the message"
        )
    edited = {key: value for key, value in stored.items() if key != "reply_markup"}
    edited.update(text=text, edit_date=int(time.time()))
    return edited


def _edit_message_reply_markup(fake: FakeTelegram, call: FakeCall) -> dict[str, Any] | bool:
    if call.get("inline_message_id"):
        return True
    stored = fake.client.message(*_chat_and_message(call))
    if stored is None:
        raise FakeApiError("Bad Request: message to edit not found")
    if stored.get("reply_markup") == call.get("reply_markup"):
        raise FakeApiError("Bad Request: message is not modified")
    return {key: value for key, value in stored.items() if key != "reply_markup"}


def _send_media_group(fake: FakeTelegram, call: FakeCall) -> list[dict[str, Any]]:
    media = call.get("media")
    if not isinstance(media, list) or len(media) not in MEDIA_GROUP_SIZES:
        raise FakeApiError("Bad Request: wrong number of media in the album: send 2-10 items")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if not kinds <= {"photo", "video", "document", "audio"} or ("document" in kinds and len(kinds) > 1):
        raise FakeApiError("Bad Request: document can't be mixed with other media types")
    group_id = f"album{fake.next_message_id()}"
    messages = []
    for item in media:
        caption = str(item.get("caption") or "")
        reference = item.get("media")
        upload = call.get(reference[len("attach://"):]) if str(reference).startswith("attach://") else reference
        if not isinstance(upload, FakeFile) and not isinstance(upload, str):
            raise FakeApiError("Bad Request: wrong file identifier/HTTP URL specified")
        file_id = _file_id(upload, item["type"])
        contents: dict[str, dict[str, Any]] = {
            "photo": {"photo": [{"file_id": file_id, "file_unique_id": file_id, "width": 1024, "height": 1024}]},
            "video": {"video": {"file_id": file_id, "file_unique_id": file_id, "width": 1280, "height": 720,
                                "duration": 5}},
        }
        content = contents.get(item["type"], {"document": {"file_id": file_id, "file_unique_id": file_id}})
        messages.append(_message(call, fake.next_message_id(), media_group_id=group_id, caption=caption, **content))
    return messages


def _answer_callback_query(fake: FakeTelegram, call: FakeCall) -> bool:
    if utf16_length(str(call.get("text") or "")) > CALLBACK_ANSWER_TEXT_MAX:
        raise FakeApiError("Bad Request: MESSAGE_TOO_LONG")
    if not fake.client.answer_once(f"callback:{call.get('callback_query_id') or ''}"):
        raise FakeApiError(QUERY_INVALID)
    return True


def _answer_inline_query(fake: FakeTelegram, call: FakeCall) -> bool:
    results = call.get("results")
    if not isinstance(results, list) or len(results) > INLINE_RESULTS_MAX:
        raise FakeApiError("Bad Request: RESULTS_TOO_MUCH")
    ids = [str(result.get("id") or "") for result in results]
    if any(not result_id or len(result_id.encode()) > INLINE_ID_MAX_BYTES for result_id in ids):
        raise FakeApiError("Bad Request: RESULT_ID_INVALID")
    if len(set(ids)) != len(ids):
        raise FakeApiError("Bad Request: RESULT_ID_DUPLICATE")
    if any(utf16_length(str(result.get("caption") or "")) > CAPTION_MAX_LENGTH for result in results):
        raise FakeApiError("Bad Request: message caption is too long")
    if len(str(call.get("next_offset") or "").encode()) > 64:
        raise FakeApiError("Bad Request: NEXT_OFFSET_INVALID")
    if not fake.client.answer_once(f"inline:{call.get('inline_query_id') or ''}"):
        raise FakeApiError(QUERY_INVALID)
    return True


def _save_prepared_inline_message(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    result = call.get("result")
    if not str(call.get("user_id") or "").isdigit():
        raise FakeApiError("Bad Request: invalid user_id specified")
    if not isinstance(result, dict) or not result.get("type") or not result.get("id"):
        raise FakeApiError("Bad Request: RESULT_TYPE_INVALID")
    if utf16_length(str(result.get("caption") or "")) > CAPTION_MAX_LENGTH:
        raise FakeApiError("Bad Request: message caption is too long")
    return {"id": f"prepared{fake.next_message_id()}", "expiration_date": int(time.time()) + 86400}


def _get_file(fake: FakeTelegram, call: FakeCall) -> dict[str, Any]:
    file_id = str(call.get("file_id") or "")
    found = fake.client.file(file_id)
    if found is None:
        raise FakeApiError("Bad Request: invalid file_id")
    file_path, content = found
    if fake.client.local_mode_on:  # --local: the file on the server's disk, whatever its size
        local = fake.client.local_path(file_path)
        if fake.client.local_dir is not None:
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
        file_path = str(local)
    elif len(content) > DOWNLOAD_MAX_BYTES:
        raise FakeApiError("Bad Request: file is too big")
    return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content), "file_path": file_path}


DEFAULT_RESULTS.update({
    "editMessageText": _edit_message_text,
    "editMessageReplyMarkup": _edit_message_reply_markup,
    "sendMediaGroup": _send_media_group,
    "answerCallbackQuery": _answer_callback_query,
    "answerInlineQuery": _answer_inline_query,
    "savePreparedInlineMessage": _save_prepared_inline_message,
    "getFile": _get_file,
})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many concurrent clients (threads in a test) must not overflow the listen
    # backlog: a dropped SYN is retried only after a second.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a stopping bot in the middle of a long poll) is not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTelegram
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: an answer is written as headers, then body. On a kept-alive
    # connection Nagle's algorithm holds the body until the client acknowledges the
    # headers, which it delays (~40 ms on Linux): every call after the first would
    # wait that long, as the real Bot API never makes it wait.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the recorded calls are the log

    def _serve(self, http_method: str) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if http_method == "GET" and len(parts) >= 3 and parts[0] == "file":
            self._serve_file(token=parts[1][3:], file_path=unquote("/".join(parts[2:])))
            return
        if len(parts) != 2 or not parts[0].startswith("bot") or not parts[1]:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        try:
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(self._body_params())
        except ValueError as exc:
            self._reply(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
            return
        call = FakeCall(method=parts[1], params=params, token=parts[0][3:], http_method=http_method)
        status, body = self.fake._handle(call)
        self.fake._answered(call, body)
        self._reply(status, body)

    def _body_params(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("the JSON body must be an object")
            return data
        if content_type.startswith("multipart/form-data"):
            return dict(_multipart(raw, content_type))
        return {name: _decode_form_value(value) for name, value in parse_qsl(raw.decode(), keep_blank_values=True)}

    def _serve_file(self, *, token: str, file_path: str) -> None:
        """GET /file/bot<token>/<file_path>: a file's bytes, as Telegram's file server sends them."""
        content = self.fake.client.file_content(file_path) if token == (self.fake.token or token) else None
        if content is None:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _decode_form_value(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _multipart(raw: bytes, content_type: str) -> Iterator[tuple[str, Any]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    if not message.is_multipart():
        raise ValueError("malformed multipart body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = part.get_filename()
        if filename is not None:
            yield name, FakeFile(filename=filename, content_type=part.get_content_type(), content=payload)
        else:
            yield name, _decode_form_value(payload.decode(part.get_content_charset() or "utf-8"))


@pytest.fixture
def fake_telegram(settings: Any) -> Iterator[FakeTelegram]:
    """A running fake Bot API; TELEGRAM_API_BASE_URL points at it for the test."""
    fake = FakeTelegram(token=settings.TELEGRAM_BOT_TOKEN).start()
    settings.TELEGRAM_API_BASE_URL = fake.base_url
    try:
        yield fake
    finally:
        fake.stop()
