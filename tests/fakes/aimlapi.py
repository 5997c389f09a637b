"""A fake AIML API on a real loopback socket, scripted per test, as strict as the real one.

The code under test talks to it over HTTP exactly as it talks to the real API
(AIMLAPI_BASE_URL points here), so timeouts, status codes, bodies and headers are
real. Each route answers from a queue of scripted replies; an unscripted request
gets a 599 so a test can never pass by accident. It also serves result files
under /files/<name> (404 for unknown names) and records every request.

Strict like the real API (docs.aimlapi.com, the models' OpenAPI schemas): a create
for a model it does not know is a 400 "Body validation error" (a withdrawn one, 404
"Model is deprecated"), and so is a field the model does not take, a missing
required field, a value outside its enum or range, or an input image that is not a
URL or a base64 data URL of a real image. Such a request never consumes a scripted
reply. Every reply carries `x-inference-id`, echoes `x-client-request-id`, and may
carry the cost (`x-aimlapi-usd-spent`). `GET /v2/logs` lists the creates it received
(the usage logs, with `client_request_id` and `inference_id`), as the real API does.
"""

import base64
import binascii
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

IMAGES = "/v1/images/generations"
VIDEOS = "/v2/video/generations"
LOGS = "/v2/logs"
OUT_OF_CREDITS = ("You've run out of credits. Please top up your balance or update your payment method to "
                  "continue: https://aimlapi.com/app/billing/")
ASPECT_RATIOS_GEMINI = {"21:9", "1:1", "4:3", "3:2", "2:3", "5:4", "4:5", "3:4", "16:9", "9:16"}


@dataclass(frozen=True)
class ModelSpec:
    """A model's request as its API schema describes it."""

    path: str
    fields: frozenset[str]
    required: frozenset[str] = frozenset({"prompt"})
    enums: dict[str, frozenset[Any]] = field(default_factory=dict)
    max_image_urls: int = 0
    num_images: bool = False  # takes num_images, 1 to 4


def _spec(path: str, fields: set[str], **kwargs: Any) -> ModelSpec:
    return ModelSpec(path=path, fields=frozenset(fields | {"model"}), **kwargs)


_SEEDANCE_PRO = {"prompt", "image_url", "resolution", "duration", "watermark", "seed", "camerafixed", "last_image_url"}
_SEEDANCE_ENUMS = {"resolution": frozenset({"480p", "720p", "1080p"}), "duration": frozenset({5, 10})}
_KLING_T2V = {"prompt", "aspect_ratio", "duration", "negative_prompt", "cfg_scale", "camera_control",
              "advanced_camera_control", "provider"}
_KLING_I2V = {"image_url", "prompt", "duration", "negative_prompt", "cfg_scale", "static_mask", "dynamic_masks",
              "camera_control", "provider"}

# The models NanoGen's catalog (and the tests) use, from their documented schemas.
MODELS: dict[str, ModelSpec] = {
    "google/gemini-2.5-flash-image": _spec(
        IMAGES, {"prompt", "num_images", "aspect_ratio", "provider"}, num_images=True,
        enums={"aspect_ratio": frozenset(ASPECT_RATIOS_GEMINI)},
    ),
    "google/gemini-2.5-flash-image-edit": _spec(
        IMAGES, {"prompt", "image_urls", "num_images", "aspect_ratio", "provider"}, num_images=True,
        required=frozenset({"prompt", "image_urls"}), max_image_urls=3,
        enums={"aspect_ratio": frozenset(ASPECT_RATIOS_GEMINI)},
    ),
    "flux/schnell": _spec(
        IMAGES, {"prompt", "num_images", "seed", "image_size", "num_inference_steps", "enable_safety_checker"},
        num_images=True,
    ),
    "flux-pro/v1.1-ultra": _spec(
        IMAGES, {"prompt", "num_images", "seed", "safety_tolerance", "output_format", "enable_safety_checker",
                 "aspect_ratio", "raw"}, num_images=True,
        enums={"aspect_ratio": frozenset({"21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"})},
    ),
    "bytedance/seedance-1-0-pro-t2v": _spec(VIDEOS, _SEEDANCE_PRO, enums=_SEEDANCE_ENUMS),
    "bytedance/seedance-1-0-pro-i2v": _spec(VIDEOS, _SEEDANCE_PRO, enums=_SEEDANCE_ENUMS),
    "klingai/v2.1-master-text-to-video": _spec(
        VIDEOS, _KLING_T2V, enums={"aspect_ratio": frozenset({"16:9", "9:16", "1:1"}), "duration": frozenset({5, 10})}
    ),
    "klingai/v2.1-master-image-to-video": _spec(
        VIDEOS, _KLING_I2V, required=frozenset({"image_url"}), enums={"duration": frozenset({5, 10})}
    ),
    "kling-video/v1/standard/text-to-video": _spec(VIDEOS, _KLING_T2V - {"provider"}),
}
# Listed as "no longer available" (the deprecated models of the model database).
DEPRECATED = {"bytedance/seedance-1-0-lite-t2v", "bytedance/seedance-1-0-lite-i2v"}


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
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any


@dataclass
class LogRow:
    """A row of the usage logs (GET /v2/logs)."""

    created: str
    status: str
    model: str
    inference_id: str
    client_request_id: str | None
    cost_usd: float = 0.0


def png_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def mp4_bytes() -> bytes:
    """The start of an MP4 file (an `ftyp` box) and some payload."""
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 256


def error_body(status: int, message: str, path: str = IMAGES) -> dict[str, Any]:
    """The AIML API's error body."""
    return {"message": message, "path": path, "requestId": "req-1", "statusCode": status,
            "timestamp": "2026-01-01T00:00:00.000Z"}


def image_of_data_url(value: Any) -> Image.Image | None:
    """The image a `data:image/...;base64,` URL holds, or None when it holds none."""
    if not isinstance(value, str) or not value.startswith("data:image/"):
        return None
    header, _, data = value.partition(",")
    if not header.endswith(";base64"):
        return None
    try:
        image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        image.load()
    except (binascii.Error, ValueError, OSError):
        return None
    return image


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
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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

    # --- strictness -------------------------------------------------------------------
    def _refusal(self, path: str, payload: Any) -> Reply | None:
        """The real API's answer to a create it will not run; None when it is valid."""
        if not isinstance(payload, dict):
            return self._invalid(path, "Expected object, received " + type(payload).__name__)
        model = payload.get("model")
        if model in DEPRECATED:
            return Reply(404, json=error_body(404, "Model is deprecated", path))
        spec = MODELS.get(model) if isinstance(model, str) else None
        if spec is None or spec.path != path:
            return self._invalid(path, f"Invalid enum value. Expected one of the models, received '{model}'")
        unknown = sorted(set(payload) - spec.fields)
        if unknown:
            return self._invalid(path, f"Unrecognized key(s) in object: {', '.join(map(repr, unknown))}")
        missing = sorted(spec.required - set(payload))
        if missing:
            return self._invalid(path, f"Required: {', '.join(missing)}")
        if "prompt" in payload and (not isinstance(payload["prompt"], str) or not payload["prompt"].strip()):
            return self._invalid(path, "prompt: String must contain at least 1 character(s)")
        for name, allowed in spec.enums.items():
            if name in payload and payload[name] not in allowed:
                return self._invalid(path, f"{name}: Invalid enum value, received {payload[name]!r}")
        if "num_images" in payload:
            count = payload["num_images"]
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 4:
                return self._invalid(path, f"num_images: Number must be between 1 and 4, received {count!r}")
        if "image_urls" in payload:
            urls = payload["image_urls"]
            if not isinstance(urls, list) or not urls or len(urls) > spec.max_image_urls:
                return self._invalid(path, f"image_urls: Array must contain 1 to {spec.max_image_urls} element(s)")
            if any(image_of_data_url(url) is None for url in urls):
                return self._invalid(path, "image_urls: Invalid url or base64 image")
        for name in ("image_url", "last_image_url"):
            if name in payload and image_of_data_url(payload[name]) is None:
                return self._invalid(path, f"{name}: Invalid url or base64 image")
        return None

    @staticmethod
    def _invalid(path: str, detail: str) -> Reply:
        return Reply(400, json=error_body(400, f"Body validation error! {detail}", path))

    def _logs(self, query: dict[str, list[str]]) -> Reply:
        """GET /v2/logs: its parameter rules, then the rows newest first."""
        one = {key: values[0] for key, values in query.items()}
        window = ("start" in one) and ("end" in one)
        if window == ("period" in one) or ("start" in one) != ("end" in one):
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
            rows = [row for row in rows if start <= datetime.fromisoformat(row.created) <= end]
        page = rows[offset: offset + limit]
        return Reply(json={
            "data": [
                {"created": row.created, "status": row.status, "origin": "api", "model": row.model,
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
            if method == "GET" and parts.path.startswith("/files/"):
                file = self._files.get(parts.path.removeprefix("/files/"))
                reply = Reply(body=file[0], headers={"Content-Type": file[1]}) if file else Reply(404, body=b"nope")
            elif method == "GET" and parts.path == LOGS:
                reply = self._logs(query)
            elif method == "GET" and parts.path == VIDEOS and not query.get("generation_id"):
                reply = Reply(400, json=error_body(400, "generation_id: Required", VIDEOS))
            else:
                refusal = self._refusal(parts.path, payload) if method == "POST" else None
                queue = self._replies.get((method, parts.path))
                if refusal is not None:
                    reply = refusal
                elif queue:
                    reply = queue.popleft()
                else:
                    reply = Reply(599, json={"message": f"unscripted {method} {parts.path}"})
                if method == "POST" and parts.path in (IMAGES, VIDEOS) and isinstance(payload, dict):
                    # Every create is in the usage logs, failed ones too (billed nothing).
                    job = reply.json.get("id") if isinstance(reply.json, dict) else None
                    if isinstance(job, str):
                        inference_id = job
                    self.logs.append(LogRow(
                        created=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        status="succeeded" if reply.status < 400 else "failed",
                        model=str(payload.get("model")),
                        inference_id=inference_id,
                        client_request_id=client_request_id,
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
