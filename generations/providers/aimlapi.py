"""The AIML API (https://api.aimlapi.com) over HTTP with `requests`.

Images are synchronous: `POST /v1/images/generations` answers with the pictures,
either OpenAI-style (`data[].url` or `data[].b64_json`) or in the `images[].url`
shape of the FLUX family (with `has_nsfw_concepts`, one flag per image: a flagged
image is a black square and is not delivered). Videos are create-then-poll:
`POST /v2/video/generations` answers with a generation id, `GET
/v2/video/generations?generation_id=...` with its status (`queued`, `generating`,
`completed`, `error`) and, once completed, the video URL. Errors come as
`{"message", "statusCode", ...}`; 403 is the account out of credits.

Input images go as data URLs (`image_urls` for image models, `image_url`, the first
frame, for image-to-video), so the provider never needs to reach our storage.

Every request carries `X-Client-Request-Id` (the generation and the attempt), which
the API keeps in its usage logs (`GET /v2/logs`): a video create whose answer was
lost is looked up there instead of posted again. The cost of a call comes back in
the `x-aimlapi-usd-spent` header (or `meta.usage.usd_spent` in the body).
(docs.aimlapi.com: capabilities/request-tracing-and-cost, errors-and-messages,
api-references/service-endpoints/usage-logs.)

Every request has connect and read timeouts; the key goes only to the AIML API
(result downloads never carry it) and never into logs or error details.

A worker process keeps one `requests.Session` for all its steps: the connection to
the API (and its TLS session) stays open from one generation to the next, instead of
a new connection, a TLS handshake and a CA bundle loaded (tens of milliseconds of CPU)
per step. The key travels in each request's headers, not in the shared session.
"""

import base64
import binascii
import functools
import logging
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Self

import requests
from django.conf import settings
from django.utils import timezone

from generations.failures import FailureCode
from generations.models import AIModel
from generations.providers.base import (
    GenerationRequest,
    JobLookup,
    JobState,
    LookupOutcome,
    PermanentProviderError,
    Provider,
    ProviderAccountError,
    ProviderError,
    ProviderResult,
    TransientProviderError,
)

logger = logging.getLogger(__name__)

IMAGES_PATH = "/v1/images/generations"
VIDEOS_PATH = "/v2/video/generations"
LOGS_PATH = "/v2/logs"
COST_HEADER = "x-aimlapi-usd-spent"
CLIENT_REQUEST_ID_HEADER = "X-Client-Request-Id"

# Statuses of a video job: anything not finished is still running (the
# generation's timeout bounds the wait whatever the provider says).
VIDEO_DONE = {"completed", "complete", "succeeded", "success"}
VIDEO_FAILED = {"error", "failed", "failure", "cancelled", "canceled"}

# HTTP statuses worth another try: rate limits, request timeouts, server errors.
TRANSIENT_STATUSES = {408, 425, 429}
JOB_ID_MAX_LENGTH = 128  # Generation.provider_job_id
# The usage logs are read a page at a time (the API's maximum) for at most this many pages.
LOGS_PAGE = 100
LOGS_MAX_PAGES = 10
# Text fields in which an image model explains why it drew nothing.
REFUSAL_TEXT_FIELDS = ("description", "text", "message", "revised_prompt")


class AimlApiProvider(Provider):
    name = "aimlapi"

    def __init__(self, *, api_key: str, base_url: str, connect_timeout: float, read_timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._session = _process_session()
        self._headers = {
            "Authorization": f"Bearer {api_key}", "Accept": "application/json", "User-Agent": "NanoGen/1.0"
        }

    @classmethod
    def from_settings(cls) -> Self:
        return cls(
            api_key=settings.AIMLAPI_KEY,
            base_url=settings.AIMLAPI_BASE_URL,
            connect_timeout=settings.AIMLAPI_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.AIMLAPI_READ_TIMEOUT_SECONDS,
        )

    def submit(self, *, request: GenerationRequest) -> JobState:
        payload: dict[str, Any] = {**request.params, "model": request.model}
        if request.prompt:
            # An image-to-video model may take no prompt; an empty one is not sent.
            payload["prompt"] = request.prompt
        if request.kind == AIModel.Kind.IMAGE:
            if request.images:
                payload["image_urls"] = [image.data_url() for image in request.images]
            body, cost = self._call("POST", IMAGES_PATH, request=request, json=payload)
            return JobState(results=_image_results(body, cost_usd=cost), cost_usd=cost)
        if request.images:
            payload["image_url"] = request.images[0].data_url()
        body, cost = self._call("POST", VIDEOS_PATH, request=request, json=payload, creates_job=True)
        return _video_state(body, job_id="", cost_usd=cost)

    def poll(self, *, request: GenerationRequest, job_id: str) -> JobState:
        body, cost = self._call("GET", VIDEOS_PATH, request=request, params={"generation_id": job_id})
        return _video_state(body, job_id=job_id, cost_usd=cost)

    def lookup(self, *, request: GenerationRequest, client_request_id: str, since: datetime) -> JobLookup:
        """Find the create in the usage logs by its X-Client-Request-Id: its inference id
        is the generation id to poll. The logs come from an analytics pipeline, so a
        create may show up a little late; NOT_FOUND means "not yet"."""
        window = {
            "start": _iso(since - timedelta(minutes=1)),
            "end": _iso(timezone.now() + timedelta(minutes=1)),
            "model": request.model,
            "limit": LOGS_PAGE,
        }
        for page in range(LOGS_MAX_PAGES):
            body, _cost = self._call("GET", LOGS_PATH, request=request, params={**window, "offset": page * LOGS_PAGE})
            rows = body.get("data")
            if not isinstance(rows, list):
                raise TransientProviderError(FailureCode.PROVIDER_UNAVAILABLE, "usage logs without data")
            for row in rows:
                if isinstance(row, dict) and row.get("client_request_id") == client_request_id:
                    job_id = str(row.get("inference_id") or "")
                    if row.get("status") == "failed" or not job_id:
                        return JobLookup(outcome=LookupOutcome.FAILED)
                    return JobLookup(outcome=LookupOutcome.FOUND, job_id=job_id[:JOB_ID_MAX_LENGTH])
            pagination = body.get("pagination")
            if not (isinstance(pagination, dict) and pagination.get("has_more")):
                break
        return JobLookup(outcome=LookupOutcome.NOT_FOUND)

    def close(self) -> None:
        """Nothing to release: the session is the process's, kept for the next step."""

    def _call(
        self, method: str, path: str, *, request: GenerationRequest, creates_job: bool = False, **kwargs: Any
    ) -> tuple[dict[str, Any], Decimal | None]:
        """One request: its JSON body and the cost it reports. A failure of a create whose
        request may have reached the provider says so (`may_have_started`)."""
        where = f"{method} {path}"
        headers = dict(self._headers)
        if request.client_request_id:
            headers[CLIENT_REQUEST_ID_HEADER] = request.client_request_id
        try:
            response = self._session.request(
                method, self.base_url + path, timeout=self.timeout, headers=headers,
                proxies=_environment_proxies(self.base_url), verify=_environment_verify(), **kwargs
            )
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            # Never connected (or no TLS session): nothing was sent.
            raise TransientProviderError(FailureCode.PROVIDER_UNAVAILABLE, f"{where}: {type(exc).__name__}") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"{where}: bad AIMLAPI_BASE_URL ({exc})") from None
        except requests.RequestException as exc:
            # A read timeout, a connection reset or refused, DNS, a broken chunked body.
            # Refused or unresolvable, the request never left; anything else may have
            # reached the provider.
            sent = not _never_connected(exc)
            raise TransientProviderError(
                FailureCode.PROVIDER_UNAVAILABLE, f"{where}: {type(exc).__name__}",
                may_have_started=creates_job and sent,
            ) from None
        cost = _cost(response.headers.get(COST_HEADER))
        if response.status_code >= 400:
            raise _http_error(where, response, creates_job=creates_job)
        try:
            body = response.json()
        except ValueError:
            # A truncated body or a proxy's HTML page: worth another try.
            raise TransientProviderError(
                FailureCode.PROVIDER_UNAVAILABLE,
                f"{where}: HTTP {response.status_code} with a body that is not JSON: {response.text[:120]!r}",
                may_have_started=creates_job,
            ) from None
        if not isinstance(body, dict):
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"{where}: unexpected JSON {type(body).__name__}")
        return body, cost if cost is not None else _body_cost(body)


_session: requests.Session | None = None
_session_pid = 0


def _process_session() -> requests.Session:
    """This process's session (made again in a forked child: a pool must not be shared).

    What requests reads from the environment on every request (the proxies for the URL,
    a CA bundle) is read once per process instead (`_environment_proxies`,
    `_environment_verify`): urllib walks the whole environment twice per request for
    the proxies, about a millisecond of a worker step's CPU."""
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        _session, _session_pid = requests.Session(), os.getpid()
        _session.trust_env = False
    return _session


@functools.cache
def _environment_proxies(url: str) -> dict[str, str]:
    """The proxies requests would take from the environment for `url` (HTTPS_PROXY,
    NO_PROXY...), as the process started with it."""
    try:
        return dict(requests.utils.get_environ_proxies(url))
    except ValueError:  # not a URL: the request itself says so (InvalidURL)
        return {}


@functools.cache
def _environment_verify() -> str | bool:
    """The CA bundle requests would take from the environment (REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE), else its own."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def _never_connected(exc: requests.RequestException) -> bool:
    """A connection refused or a name that does not resolve: the request was never sent."""
    reason = repr(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        marker in reason for marker in ("NewConnectionError", "NameResolutionError", "Connection refused")
    )


def _http_error(where: str, response: requests.Response, *, creates_job: bool) -> ProviderError:
    status = response.status_code
    detail = f"{where}: HTTP {status}: {_error_message(response)}"
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientProviderError(
            FailureCode.PROVIDER_UNAVAILABLE,
            detail,
            retry_after=_retry_after(response.headers.get("Retry-After")),
            # A gateway's 502/504 may come after the API accepted the job; a 429 never does.
            may_have_started=creates_job and status >= 500,
        )
    if status in (400, 422):
        return PermanentProviderError(FailureCode.PROMPT_REJECTED, detail)
    if status == 403:
        # "You've run out of credits. Please top up your balance..." (the API's 403):
        # every generation fails until staff top the account up.
        logger.error("AIML API: the account is out of credits: %s", detail)
        return ProviderAccountError(FailureCode.PROVIDER_UNAVAILABLE, detail, reason="out_of_credits")
    if status in (401, 402):
        # Our key is wrong, revoked or out of funds: every generation fails until
        # staff fix it, so say it loudly.
        logger.error("AIML API refused our request (check AIMLAPI_KEY and the account): %s", detail)
        if status == 401:
            return ProviderAccountError(FailureCode.PROVIDER_ERROR, detail, reason="key_refused")
        return ProviderAccountError(FailureCode.PROVIDER_UNAVAILABLE, detail, reason="out_of_credits")
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


def _cost(value: Any) -> Decimal | None:
    """A reported cost in USD; None when absent or not a sane number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        cost = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return cost if cost.is_finite() and Decimal(0) <= cost < Decimal(1_000_000) else None


def _body_cost(body: dict[str, Any]) -> Decimal | None:
    meta = body.get("meta")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    return _cost(usage.get("usd_spent")) if isinstance(usage, dict) else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_results(body: dict[str, Any], *, cost_usd: Decimal | None) -> tuple[ProviderResult, ...]:
    items = body.get("data")
    if not isinstance(items, list) or not items:
        items = body.get("images")
    if not isinstance(items, list) or not items:
        text = next((body[key] for key in REFUSAL_TEXT_FIELDS if isinstance(body.get(key), str) and body[key]), "")
        if text:
            # Gemini answers a prompt it will not draw with words instead of a picture.
            raise PermanentProviderError(
                FailureCode.PROMPT_REJECTED, f"image model answered with text only: {text[:300]!r}", cost_usd=cost_usd
            )
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"image response without images: keys {sorted(body)}")
    flags = body.get("has_nsfw_concepts")
    flagged = [bool(flag) for flag in flags] if isinstance(flags, list) else []
    results = []
    for index, item in enumerate(items):
        if index < len(flagged) and flagged[index]:
            continue  # the provider's safety checker blanked it: never delivered
        if not isinstance(item, dict):
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"image item is a {type(item).__name__}")
        results.append(_image_result(item))
    if not results:
        raise PermanentProviderError(
            FailureCode.PROMPT_REJECTED, f"all {len(items)} images flagged by the safety checker", cost_usd=cost_usd
        )
    return tuple(results)


def _image_result(item: dict[str, Any]) -> ProviderResult:
    content_type = str(item.get("content_type") or "")
    url = item.get("url")
    if isinstance(url, str) and url.startswith("data:"):
        return _data_url(url)
    if isinstance(url, str) and url:
        return ProviderResult(url=url, content_type=content_type)
    if item.get("b64_json"):
        return ProviderResult(data=_b64(item["b64_json"]), content_type=content_type)
    raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"image without url or b64_json: keys {sorted(item)}")


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


def _video_state(body: dict[str, Any], *, job_id: str, cost_usd: Decimal | None) -> JobState:
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
        return JobState(job_id=job_id, results=(ProviderResult(url=url),), cost_usd=cost_usd)
    if not job_id:
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"video response without an id: keys {sorted(body)}")
    if len(job_id) > JOB_ID_MAX_LENGTH:
        raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"video job id longer than {JOB_ID_MAX_LENGTH}")
    if status not in {"queued", "generating", "waiting", "active", "pending", "processing", ""}:
        logger.warning("AIML API video job %s has unknown status %r; polling on", job_id, status)
    return JobState(job_id=job_id, cost_usd=cost_usd)


def _video_url(body: dict[str, Any]) -> str:
    video = body.get("video")
    if isinstance(video, list) and video:
        video = video[0]
    if isinstance(video, dict):
        video = video.get("url")
    candidates = [video, body.get("video_url"), body.get("url")]
    return next((value for value in candidates if isinstance(value, str) and value), "")
