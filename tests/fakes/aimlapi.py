"""A fake AIML API on a real loopback socket, scripted per test.

The code under test talks to it over HTTP exactly as it talks to the real API
(AIMLAPI_BASE_URL points here), so timeouts, status codes, bodies and headers are
real. Each route answers from a queue of scripted replies; an unscripted request
gets a 599 so a test can never pass by accident. It also serves result files
under /files/<name> (404 for unknown names) and records every request.

It answers only what the AIML API documentation shows (aimlapi_models): a request
with an unknown model, a missing required field, a field the model does not document
or a value it does not take (an input image that is not a URL or a base64 image) gets
400 with the API's error body, before any script; a withdrawn model gets 404 "Model is
deprecated". Every answer carries `x-inference-id`, echoes `x-client-request-id`, and
may carry the cost (`x-aimlapi-usd-spent`, the `cost` of a Reply). Every create is
kept in the usage logs that `GET /v2/logs` lists (with `client_request_id` and
`inference_id`), failed ones too, as the real API does
(docs: capabilities/request-tracing-and-cost, service-endpoints/usage-logs).
"""

import base64
import io
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db import connections
from PIL import Image

from tests.fakes.aimlapi_models import DEPRECATED, IMAGES, VIDEOS, image_of_data_url, request_problems

__all__ = ["IMAGES", "LOGS", "OUT_OF_CREDITS", "VIDEOS", "FakeAimlApi", "Recorded", "Reply", "error_body",
           "image_of_data_url", "mp4_bytes", "png_bytes"]

LOGS = "/v2/logs"
# The 403 of an account whose credits are exhausted (errors-and-messages/errors-with-status-code-4xx.md).
OUT_OF_CREDITS = ("You've run out of credits. Please top up your balance or update your payment method to "
                  "continue: https://aimlapi.com/app/billing/")


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
    # What the provider says the call cost: sent as x-aimlapi-usd-spent.
    cost: str | None = None


@dataclass
class LogRow:
    """A row of the usage logs (GET /v2/logs)."""

    created: datetime
    status: str
    model: str
    inference_id: str
    client_request_id: str | None
    cost_usd: float = 0.0


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


def _usd(cost: str | None) -> float:
    try:
        return float(cost or 0)
    except ValueError:
        return 0.0  # a test's malformed cost header: the logs show nothing spent


class FakeAimlApi:
    def __init__(self) -> None:
        self._replies: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self._files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.logs: list[LogRow] = []
        # While set, GET /v2/logs lists nothing (the analytics pipeline lags behind).
        self.logs_lagging = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # TCP_NODELAY: headers and body are two writes; Nagle's algorithm would hold
            # the body for the client's delayed acknowledgement (~40 ms on Linux).
            disable_nagle_algorithm = True

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

    def image_succeeds(
        self,
        *,
        shape: str = "data",
        name: str = "result.png",
        data: bytes | None = None,
        count: int = 1,
        nsfw: list[bool] | None = None,
        cost: str | None = None,
    ) -> Reply:
        """Script one successful image generation of `count` pictures in one of the
        documented shapes ("data": OpenAI-style urls, "b64", "images": FLUX's, with
        `has_nsfw_concepts` when `nsfw` is given)."""
        items: list[dict[str, Any]] = []
        for index in range(count):
            picture = data or png_bytes(colour=(200, 40 + 40 * index, 90))
            file_name = name if index == 0 else name.replace(".", f"-{index}.", 1)
            if shape == "b64":
                items.append({"b64_json": base64.b64encode(picture).decode()})
            else:
                url = self.serve_file(file_name, picture, "image/png")
                items.append({"url": url} if shape == "data" else {"url": url, "width": 64, "height": 48,
                                                                     "content_type": "image/png"})
        if shape == "images":
            body: dict[str, Any] = {"images": items, "seed": 1, "timings": {}}
            if nsfw is not None:
                body["has_nsfw_concepts"] = nsfw
        else:
            body = {"data": items}
        reply = Reply(json=body, cost=cost)
        self.script("POST", IMAGES, reply)
        return reply

    def image_text_only(self, description: str = "I can't help with that request.") -> Reply:
        """Gemini's answer to a prompt it will not draw: words, no picture."""
        reply = Reply(json={"images": [], "description": description}, cost="0.000310")
        self.script("POST", IMAGES, reply)
        return reply

    def out_of_credits(self, path: str = IMAGES) -> Reply:
        """The API's 403 when the account's credits are exhausted."""
        reply = Reply(403, json=error_body(403, OUT_OF_CREDITS, path))
        self.script("POST", path, reply)
        return reply

    def video_job(self, job_id: str = "job-1", *, statuses: tuple[str, ...] = ("generating", "completed"),
                  name: str = "result.mp4", data: bytes | None = None, cost: str | None = None,
                  create: Reply | None = None) -> None:
        """Script a video job: created `queued` (or `create`), then one poll answer per
        status; the completed poll reports `cost`, as the charge is made on completion."""
        url = self.serve_file(name, data or mp4_bytes(), "video/mp4")
        self.script("POST", VIDEOS, create or Reply(json={"id": job_id, "status": "queued"}))
        for status in statuses:
            body: dict[str, Any] = {"id": job_id, "status": status}
            if status == "completed":
                body["video"] = {"url": url}
                if cost is not None:
                    body["meta"] = {"usage": {"credits_used": 1, "usd_spent": float(cost)}}
            if status == "error":
                body["error"] = {"name": "GenerationError", "message": "internal worker crashed"}
            self.script("GET", VIDEOS, Reply(json=body, cost=cost if status == "completed" else None))

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def _logs(self, query: dict[str, list[str]]) -> Reply:
        """GET /v2/logs (service-endpoints/logs-v2.json): its parameter rules, then the
        rows newest first."""
        one = {key: values[0] for key, values in query.items()}
        unknown = set(one) - {"period", "start", "end", "key_prefix", "model", "status", "limit", "offset"}
        window = ("start" in one) and ("end" in one)
        if unknown or window == ("period" in one) or ("start" in one) != ("end" in one):
            return Reply(400, json=error_body(400, "Provide either period or both start and end", LOGS))
        try:
            limit = int(one.get("limit", "50"))
            offset = int(one.get("offset", "0"))
            start = datetime.fromisoformat(one["start"]) if window else None
            end = datetime.fromisoformat(one["end"]) if window else None
        except ValueError:
            return Reply(400, json=error_body(400, "Malformed parameter", LOGS))
        if not 1 <= limit <= 100 or offset < 0 or (start and end and end < start):
            return Reply(400, json=error_body(400, "Bad limit, offset or window", LOGS))
        rows = [] if self.logs_lagging else list(reversed(self.logs))
        if "model" in query:
            rows = [row for row in rows if row.model in query["model"]]
        if start and end:
            rows = [row for row in rows if start <= row.created <= end]
        page = rows[offset: offset + limit]
        return Reply(json={
            "data": [
                {"created": row.created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                 "status": row.status, "origin": "api", "model": row.model,
                 "cost": {"usd": row.cost_usd, "credits": int(row.cost_usd * 2_000_000)},
                 "tokens": {"input": 0, "output": 0, "total": 0}, "request_id": "req-1",
                 "inference_id": row.inference_id, "client_request_id": row.client_request_id}
                for row in page
            ],
            "pagination": {"limit": limit, "offset": offset, "total": len(rows),
                           "has_more": offset + limit < len(rows)},
        })

    # --- serving -------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw
        query = parse_qs(parts.query)
        client_request_id = handler.headers.get("X-Client-Request-Id")
        inference_id = secrets.token_urlsafe(12)
        with self._lock:
            self.requests.append(Recorded(method, parts.path, query, dict(handler.headers.items()), payload))
            model = payload.get("model") if isinstance(payload, dict) else None
            problems = request_problems(method, parts.path, payload, query)
            if model in DEPRECATED:
                reply = Reply(404, json=error_body(404, "Model is deprecated", parts.path))
            elif problems:
                reply = Reply(400, json=error_body(400, problems, parts.path))
            elif method == "GET" and parts.path.startswith("/files/"):
                file = self._files.get(parts.path.removeprefix("/files/"))
                reply = Reply(body=file[0], headers={"Content-Type": file[1]}) if file else Reply(404, body=b"nope")
            elif method == "GET" and parts.path == LOGS:
                reply = self._logs(query)
            else:
                queue = self._replies.get((method, parts.path))
                reply = queue.popleft() if queue else Reply(599, json={"message": f"unscripted {method} {parts.path}"})
            if method == "POST" and parts.path in (IMAGES, VIDEOS) and isinstance(payload, dict):
                # Every create is in the usage logs, failed ones too (billed nothing);
                # an async job's inference id is its generation id.
                job = reply.json.get("id") if isinstance(reply.json, dict) else None
                if isinstance(job, str):
                    inference_id = job
                self.logs.append(LogRow(
                    created=datetime.now(UTC), status="succeeded" if reply.status < 400 else "failed",
                    model=str(model), inference_id=inference_id, client_request_id=client_request_id,
                    cost_usd=_usd(reply.cost),
                ))
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
            headers = {"Content-Type": "application/json", "x-inference-id": inference_id, **reply.headers}
            if client_request_id:
                headers["x-client-request-id"] = client_request_id
            if reply.cost is not None:
                headers["x-aimlapi-usd-spent"] = reply.cost
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout): that was the point
