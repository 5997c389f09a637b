"""The one small interface every generation provider implements, and its errors.

A provider turns (model, prompt, params, input images) into one or more results.
Synchronous providers answer `submit` with the results at once; asynchronous ones
answer with a job id that the worker polls later (`poll`), each poll in a task of its
own. Providers do network I/O only: they never touch the database, so the worker can
call them outside any transaction.

Errors are classified where they happen, healthchecks-style: a
`TransientProviderError` (network error, timeout, HTTP 429 or 5xx) is worth
another try later; a `PermanentProviderError` (validation, auth, a job that
failed) is not. Both carry a failure code for the user and an internal detail for
the logs only (never a key, never shown to users). A `ProviderAccountError` says that
our account at the provider is unusable (out of credits, key refused): every
generation fails until staff act, so the admins are told.
"""

import base64
import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from generations.failures import FailureCode
from generations.models import AIModel


@dataclass(frozen=True)
class InputImage:
    """An input image's bytes (an upload as stored: re-encoded, no metadata)."""

    data: bytes
    content_type: str

    def data_url(self) -> str:
        """`data:image/jpeg;base64,...`: the provider never needs to reach our storage."""
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode()}"


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate, as a provider needs it (no database objects)."""

    kind: AIModel.Kind
    model: str  # the provider's model id for this request (with images: the model that takes them)
    prompt: str
    params: dict[str, Any] = field(default_factory=dict)
    images: tuple[InputImage, ...] = ()
    # The catalog name, for providers that show it (the demo).
    title: str = ""
    # Names this call at the provider (X-Client-Request-Id): the generation and the
    # attempt, so that a create whose answer was lost can be looked up.
    client_request_id: str = ""


@dataclass(frozen=True)
class ProviderResult:
    """A finished result: its bytes, or a URL to download them from."""

    url: str = ""
    data: bytes = b""
    # What the provider says the content is; the worker checks the bytes anyway.
    content_type: str = ""

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.data):
            raise ValueError("a provider result has either a url or data")


@dataclass(frozen=True)
class JobState:
    """What a provider answered: the finished results (in order), or a job that is still
    running; and what the provider says the call cost, when it says."""

    job_id: str = ""
    results: tuple[ProviderResult, ...] = ()
    cost_usd: Decimal | None = None

    @property
    def finished(self) -> bool:
        return bool(self.results)

    @property
    def result(self) -> ProviderResult | None:
        """The first result (None while the job runs)."""
        return self.results[0] if self.results else None


class LookupOutcome(enum.StrEnum):
    FOUND = "found"  # the create started a job: poll it
    FAILED = "failed"  # the create reached the provider and failed: nothing runs, nothing is billed
    NOT_FOUND = "not_found"  # no trace (yet)


@dataclass(frozen=True)
class JobLookup:
    outcome: LookupOutcome
    job_id: str = ""


class ProviderError(Exception):
    """A provider call did not produce a result.

    `code` is the failure code the user sees (with its translated message);
    `detail` says what happened for the logs and is never shown to users.
    """

    def __init__(
        self,
        code: FailureCode,
        detail: str,
        *,
        retry_after: float | None = None,
        cost_usd: Decimal | None = None,
        may_have_started: bool = False,
    ) -> None:
        self.code = code
        self.detail = detail[:500]
        # Seconds the provider asked us to wait (HTTP Retry-After), if any.
        self.retry_after = retry_after
        # What the provider says the failed call cost (it may bill a flagged result).
        self.cost_usd = cost_usd
        # A create of a job whose answer was lost (a timeout after the request was
        # sent, a 5xx): a paid job may be running. Look it up before posting again.
        self.may_have_started = may_have_started
        super().__init__(f"{code}: {self.detail}")


class TransientProviderError(ProviderError):
    """Worth another try later: network errors, timeouts, HTTP 429 and 5xx."""


class PermanentProviderError(ProviderError):
    """Trying again would fail the same way: validation, auth, a failed job."""


class ProviderAccountError(PermanentProviderError):
    """Our account at the provider cannot be used (out of credits, key refused): every
    generation fails until staff act. `reason` names the problem for the admins' alert."""

    def __init__(self, code: FailureCode, detail: str, *, reason: str) -> None:
        super().__init__(code, detail)
        self.reason = reason


class Provider(ABC):
    """A source of generated images and videos."""

    name: str = ""

    @abstractmethod
    def submit(self, *, request: GenerationRequest) -> JobState:
        """Start a generation: the result (synchronous providers) or a job id to poll."""

    @abstractmethod
    def poll(self, *, request: GenerationRequest, job_id: str) -> JobState:
        """The state of a job `submit` started: finished with its results, or still running."""

    def lookup(self, *, request: GenerationRequest, client_request_id: str, since: datetime) -> JobLookup:
        """What became of a create named `client_request_id`, sent after `since`, whose
        answer was lost. Providers whose creates never get lost find nothing."""
        return JobLookup(outcome=LookupOutcome.NOT_FOUND)

    def close(self) -> None:  # noqa: B027 - optional: only providers that hold connections need it
        """Release connections; the worker calls it when a step is done."""
