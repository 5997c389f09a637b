"""Writes for generations, re-exported here: `from generations.services import ...`."""

from generations.services.cancel import generation_cancel
from generations.services.lifecycle import (
    generation_cancel_if_active,
    generation_claim,
    generation_complete,
    generation_fail,
    generation_lease_take,
    generation_reference,
    generation_step_handoff,
)
from generations.services.quote import Quote, generation_quote
from generations.services.result_uploads import upload_create_from_result
from generations.services.staff_refund import generation_staff_refund
from generations.services.start import generation_start, payload_fingerprint
from generations.services.uploads import upload_create, upload_create_from_bytes

__all__ = [
    "Quote",
    "generation_cancel",
    "generation_cancel_if_active",
    "generation_claim",
    "generation_complete",
    "generation_fail",
    "generation_lease_take",
    "generation_quote",
    "generation_reference",
    "generation_staff_refund",
    "generation_start",
    "generation_step_handoff",
    "payload_fingerprint",
    "upload_create",
    "upload_create_from_bytes",
    "upload_create_from_result",
]
