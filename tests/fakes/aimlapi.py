"""A fake AIML API on a real loopback socket, scripted per test.

The code under test talks to it over HTTP exactly as it talks to the real API
(AIMLAPI_BASE_URL points here), so timeouts, status codes, bodies and headers are
real. Each route answers from a queue of scripted replies; an unscripted request
gets a 599 so a test can never pass by accident. It also serves result files
under /files/<name> (404 for unknown names) and records every request.

It answers only what the AIML API documentation shows (aimlapi_models): a request
with an unknown model, a missing required field, a field the model does not document
or a value it does not take gets 400 with the API's error body, before any script.
"""

import io
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db import connections
from PIL import Image

from tests.fakes.aimlapi_models import IMAGES, VIDEOS, request_problems

__all__ = ["IMAGES", "VIDEOS", "FakeAimlApi", "Recorded", "Reply", "error_body", "mp4_bytes", "png_bytes"]


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None  # raw body (malformed JSON, files); wins over `json`
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering: more than the client's read timeout is a timeout.
    delay: float = 0.0
    # Runs in the server thread before the answer is sent (a cancel racing the provider).
    before: Callable[[], None] | None = None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any


def png_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def mp4_bytes() -> bytes:
    """The start of an MP4 file (an `ftyp` box) and some payload."""
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 256


def error_body(status: int, message: str | list[str], path: str = IMAGES) -> dict[str, Any]:
    """The AIML API's error body (validation errors carry a list of messages)."""
    return {"message": message, "path": path, "requestId": "req-1", "statusCode": status,
            "timestamp": "2026-01-01T00:00:00.000Z"}


class FakeAimlApi:
    def __init__(self) -> None:
        self._replies: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self._files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeAimlApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- scripting ---------------------------------------------------------------
    def script(self, method: str, path: str, *replies: Reply) -> None:
        with self._lock:
            self._replies[(method, path)].extend(replies)

    def serve_file(self, name: str, data: bytes, content_type: str) -> str:
        with self._lock:
            self._files[name] = (data, content_type)
        return f"{self.base_url}/files/{name}"

    def image_succeeds(self, *, shape: str = "data", name: str = "result.png", data: bytes | None = None) -> Reply:
        """Script one successful image generation in one of the documented shapes."""
        data = data or png_bytes()
        if shape == "b64":
            import base64

            reply = Reply(json={"data": [{"b64_json": base64.b64encode(data).decode()}]})
        else:
            url = self.serve_file(name, data, "image/png")
            item: dict[str, Any] = {"url": url} if shape == "data" else {"url": url, "width": 64, "height": 48,
                                                         "content_type": "image/png"}
            reply = Reply(json={"data": [item]} if shape == "data" else {"images": [item], "seed": 1})
        self.script("POST", IMAGES, reply)
        return reply

    def video_job(self, job_id: str = "job-1", *, statuses: tuple[str, ...] = ("generating", "completed"),
                  name: str = "result.mp4", data: bytes | None = None) -> None:
        """Script a video job: created `queued`, then one poll answer per status."""
        url = self.serve_file(name, data or mp4_bytes(), "video/mp4")
        self.script("POST", VIDEOS, Reply(json={"id": job_id, "status": "queued"}))
        for status in statuses:
            body: dict[str, Any] = {"id": job_id, "status": status}
            if status == "completed":
                body["video"] = {"url": url}
            if status == "error":
                body["error"] = {"name": "GenerationError", "message": "internal worker crashed"}
            self.script("GET", VIDEOS, Reply(json=body))

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # --- serving -------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw
        with self._lock:
            self.requests.append(
                Recorded(method, parts.path, parse_qs(parts.query), dict(handler.headers.items()), payload)
            )
            problems = request_problems(method, parts.path, payload, parse_qs(parts.query))
            if problems:
                reply = Reply(400, json=error_body(400, problems, parts.path))
            elif method == "GET" and parts.path.startswith("/files/"):
                file = self._files.get(parts.path.removeprefix("/files/"))
                reply = Reply(body=file[0], headers={"Content-Type": file[1]}) if file else Reply(404, body=b"nope")
            else:
                queue = self._replies.get((method, parts.path))
                reply = queue.popleft() if queue else Reply(599, json={"message": f"unscripted {method} {parts.path}"})
        if reply.before:
            try:
                reply.before()
            finally:
                connections.close_all()  # the hook may use the database from this thread
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body if reply.body is not None else json.dumps(reply.json).encode()
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout): that was the point
