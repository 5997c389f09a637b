"""Domain errors of generations, with their API codes (docs/api.md lists every code).

The API's exception handler renders them as `{"code", "message", "details"}`;
`headers` become response headers (Retry-After) and `extra` top-level members
(the original generation of a DUPLICATE_REQUEST).
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

if TYPE_CHECKING:
    from generations.models import Generation


class ModelUnavailable(DomainError):
    status_code = 400
    code = "MODEL_UNAVAILABLE"
    default_message = _("This model is not available. Please choose another one.")


class DuplicateRequest(DomainError):
    """A repeat of an idempotency key with the same payload: nothing new was started.

    Carries the original generation so that a client that lost the first response
    still learns its id; the view renders it into the body as `generation`.
    """

    status_code = 409
    code = "DUPLICATE_REQUEST"
    default_message = _("This request was already received; here is the generation it started.")

    def __init__(self, *, generation: "Generation") -> None:
        super().__init__(details={"generation_id": generation.pk})
        self.generation = generation


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = _("This idempotency key was already used for a different request.")


class RateLimitExceeded(DomainError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = _("Too many generations started in the last minute. Please wait a little.")


class MaxActiveGenerations(DomainError):
    status_code = 429
    code = "MAX_ACTIVE_GENERATIONS"
    default_message = _("You already have the maximum number of generations in progress. Wait until one finishes.")


class GenerationNotCancellable(DomainError):
    status_code = 409
    code = "GENERATION_NOT_CANCELLABLE"
    default_message = _("This generation has already finished and cannot be cancelled.")


class GenerationNotRefundable(DomainError):
    """Staff refund only completed generations: failed and cancelled ones were
    refunded automatically, live ones may still be."""

    status_code = 409
    code = "GENERATION_NOT_REFUNDABLE"
    default_message = _("Only a completed generation can be refunded by staff.")
