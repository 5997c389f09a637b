"""The one small interface every generation provider implements, and its errors.

A provider turns (model, prompt, params) into a result. Synchronous providers
answer `submit` with the result at once; asynchronous ones answer with a job id
that the worker polls later (`poll`), each poll in a task of its own. Providers do
network I/O only: they never touch the database, so the worker can call them
outside any transaction.

Errors are classified where they happen, healthchecks-style: a
`TransientProviderError` (network error, timeout, HTTP 429 or 5xx) is worth
another try later; a `PermanentProviderError` (validation, auth, a job that
failed) is not. Both carry a failure code for the user and an internal detail for
the logs only (never a key, never shown to users).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from generations.failures import FailureCode
from generations.models import AIModel


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate, as a provider needs it (no database objects)."""

    kind: AIModel.Kind
    model: str  # the provider's model id (AIModel.provider_model_id)
    prompt: str
    params: dict[str, Any] = field(default_factory=dict)
    # The catalog name, for providers that show it (the demo).
    title: str = ""


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
    """What a provider answered: a finished result, or a job that is still running."""

    job_id: str = ""
    result: ProviderResult | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None


class ProviderError(Exception):
    """A provider call did not produce a result.

    `code` is the failure code the user sees (with its translated message);
    `detail` says what happened for the logs and is never shown to users.
    """

    def __init__(self, code: FailureCode, detail: str, *, retry_after: float | None = None) -> None:
        self.code = code
        self.detail = detail[:500]
        # Seconds the provider asked us to wait (HTTP Retry-After), if any.
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.detail}")


class TransientProviderError(ProviderError):
    """Worth another try later: network errors, timeouts, HTTP 429 and 5xx."""


class PermanentProviderError(ProviderError):
    """Trying again would fail the same way: validation, auth, a failed job."""


class Provider(ABC):
    """A source of generated images and videos."""

    name: str = ""

    @abstractmethod
    def submit(self, *, request: GenerationRequest) -> JobState:
        """Start a generation: the result (synchronous providers) or a job id to poll."""

    @abstractmethod
    def poll(self, *, request: GenerationRequest, job_id: str) -> JobState:
        """The state of a job `submit` started: finished with a result, or still running."""

    def close(self) -> None:  # noqa: B027 - optional: only providers that hold connections need it
        """Release connections; the worker calls it when a step is done."""
