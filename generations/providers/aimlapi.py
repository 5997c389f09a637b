"""The AIML API (https://api.aimlapi.com) over HTTP with `requests`.

Images are synchronous: `POST /v1/images/generations` answers with the picture,
either OpenAI-style (`data[].url` or `data[].b64_json`) or in the `images[].url`
shape of the FLUX family. Videos are create-then-poll: `POST /v2/video/generations`
answers with a generation id, `GET /v2/video/generations?generation_id=...` with its
status (`queued`, `generating`, `completed`, `error`) and, once completed, the
video URL. Errors come as `{"message", "statusCode", ...}`.

Every request has connect and read timeouts; the key goes only to the AIML API
(result downloads never carry it) and never into logs or error details.
"""

import base64
import binascii
import logging
from typing import Any, Self

import requests
from django.conf import settings

from generations.failures import FailureCode
from generations.models import AIModel
from generations.providers.base import (
    GenerationRequest,
    JobState,
    PermanentProviderError,
    Provider,
    ProviderResult,
    TransientProviderError,
)

logger = logging.getLogger(__name__)

IMAGES_PATH = "/v1/images/generations"
VIDEOS_PATH = "/v2/video/generations"

# Statuses of a video job: anything not finished is still running (the
# generation's timeout bounds the wait whatever the provider says).
VIDEO_DONE = {"completed", "complete", "succeeded", "success"}
VIDEO_FAILED = {"error", "failed", "failure", "cancelled", "canceled"}

# HTTP statuses worth another try: rate limits, request timeouts, server errors.
TRANSIENT_STATUSES = {408, 425, 429}
JOB_ID_MAX_LENGTH = 128  # Generation.provider_job_id


class AimlApiProvider(Provider):
    name = "aimlapi"

    def __init__(self, *, api_key: str, base_url: str, connect_timeout: float, read_timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.headers.update(
            {"Authorization": f"Bearer {api_key}", "Accept": "application/json", "User-Agent": "NanoGen/1.0"}
        )

    @classmethod
    def from_settings(cls) -> Self:
        return cls(
            api_key=settings.AIMLAPI_KEY,
            base_url=settings.AIMLAPI_BASE_URL,
            connect_timeout=settings.AIMLAPI_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.AIMLAPI_READ_TIMEOUT_SECONDS,
        )

    def submit(self, *, request: GenerationRequest) -> JobState:
        payload = {**request.params, "model": request.model, "prompt": request.prompt}
        if request.kind == AIModel.Kind.IMAGE:
            return JobState(result=_image_result(self._call("POST", IMAGES_PATH, json=payload)))
        return _video_state(self._call("POST", VIDEOS_PATH, json=payload), job_id="")

    def poll(self, *, request: GenerationRequest, job_id: str) -> JobState:
        body = self._call("GET", VIDEOS_PATH, params={"generation_id": job_id})
        return _video_state(body, job_id=job_id)

    def close(self) -> None:
        self._session.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        where = f"{method} {path}"
        try:
            response = self._session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise TransientProviderError(FailureCode.PROVIDER_UNAVAILABLE, f"{where}: {type(exc).__name__}") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"{where}: bad AIMLAPI_BASE_URL ({exc})") from None
        except requests.RequestException as exc:
            # Connection refused or reset, DNS, TLS, a broken chunked body.
            raise TransientProviderError(FailureCode.PROVIDER_UNAVAILABLE, f"{where}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise _http_error(where, response)
        try:
            body = response.json()
        except ValueError:
            # A truncated body or a proxy's HTML page: worth another try.
            raise TransientProviderError(
                FailureCode.PROVIDER_UNAVAILABLE,
                f"{where}: HTTP {response.status_code} with a body that is not JSON: {response.text[:120]!r}",
            ) from None
        if not isinstance(body, dict):
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"{where}: unexpected JSON {type(body).__name__}")
        return body


def _http_error(where: str, response: requests.Response) -> TransientProviderError | PermanentProviderError:
    status = response.status_code
    detail = f"{where}: HTTP {status}: {_error_message(response)}"
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientProviderError(
            FailureCode.PROVIDER_UNAVAILABLE, detail, retry_after=_retry_after(response.headers.get("Retry-After"))
        )
    if status in (400, 422):
        return PermanentProviderError(FailureCode.PROMPT_REJECTED, detail)
    if status in (401, 402, 403):
        # Our key is wrong, revoked or out of funds: every generation fails until
        # staff fix it, so say it loudly.
        logger.error("AIML API refused our request (check AIMLAPI_KEY and the account): %s", detail)
        code = FailureCode.PROVIDER_UNAVAILABLE if status == 402 else FailureCode.PROVIDER_ERROR
        return PermanentProviderError(code, detail)
    return PermanentProviderError(FailureCode.PROVIDER_ERROR, detail)


def _error_message(response: requests.Response) -> str:
    """The message of an error body `{"message", "statusCode", ...}` (or `{"error": {...}}`)."""
    try:
        body = response.json()
    except ValueError:
        return repr(response.text[:200])
    if not isinstance(body, dict):
        return repr(body)[:200]
    message = body.get("message")
    error = body.get("error")
    if not message and isinstance(error, dict):
        message = error.get("message") or error.get("name")
    elif not message and error:
        message = error
    if isinstance(message, list):  # validation errors come as a list of strings
        message = "; ".join(str(part) for part in message)
    return str(message or body)[:300]


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None  # an HTTP date: rare for APIs, and the backoff is a fine fallback
    return seconds if seconds is not None and seconds >= 0 else None


def _image_result(body: dict[str, Any]) -> ProviderResult:
    items = body.get("data")
    if not isinstance(items, list) or not items:
        items = body.get("images")
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"image response without images: keys {sorted(body)}")
    first = items[0]
    content_type = str(first.get("content_type") or "")
    url = first.get("url")
    if isinstance(url, str) and url.startswith("data:"):
        return _data_url(url)
    if isinstance(url, str) and url:
        return ProviderResult(url=url, content_type=content_type)
    if first.get("b64_json"):
        return ProviderResult(data=_b64(first["b64_json"]), content_type=content_type)
    raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"image without url or b64_json: keys {sorted(first)}")


def _data_url(url: str) -> ProviderResult:
    header, _, data = url.partition(",")
    if ";base64" not in header:
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, "image data URL is not base64")
    return ProviderResult(data=_b64(data), content_type=header[5:].split(";")[0])


def _b64(value: Any) -> bytes:
    try:
        data = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, "image b64_json is not valid base64") from None
    if not data:
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, "image b64_json is empty")
    return data


def _video_state(body: dict[str, Any], *, job_id: str) -> JobState:
    job_id = str(body.get("id") or body.get("generation_id") or job_id)
    status = str(body.get("status") or "").lower()
    if status in VIDEO_FAILED:
        error = body.get("error")
        message = (error.get("message") or error.get("name")) if isinstance(error, dict) else error
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"video job {job_id} ended '{status}': {message}")
    if status in VIDEO_DONE:
        url = _video_url(body)
        if not url:
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"video job {job_id} completed without a URL")
        return JobState(job_id=job_id, result=ProviderResult(url=url))
    if not job_id:
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"video response without an id: keys {sorted(body)}")
    if len(job_id) > JOB_ID_MAX_LENGTH:
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"video job id longer than {JOB_ID_MAX_LENGTH}")
    if status not in {"queued", "generating", "waiting", "active", "pending", "processing", ""}:
        logger.warning("AIML API video job %s has unknown status %r; polling on", job_id, status)
    return JobState(job_id=job_id)


def _video_url(body: dict[str, Any]) -> str:
    video = body.get("video")
    if isinstance(video, list) and video:
        video = video[0]
    if isinstance(video, dict):
        video = video.get("url")
    candidates = [video, body.get("video_url"), body.get("url")]
    return next((value for value in candidates if isinstance(value, str) and value), "")
