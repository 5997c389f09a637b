"""Writes for generations, re-exported here: `from generations.services import ...`."""

from generations.services.lifecycle import (
    generation_cancel_if_active,
    generation_claim,
    generation_complete,
    generation_fail,
    generation_lease_take,
    generation_step_handoff,
)

__all__ = [
    "generation_cancel_if_active",
    "generation_claim",
    "generation_complete",
    "generation_fail",
    "generation_lease_take",
    "generation_step_handoff",
]
