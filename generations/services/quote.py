"""The price of a start before it is made: the same checks as a start's validation and
the same price rule, so the figure is exactly what the start would charge (unless
staff change the price in between). Nothing is written, nothing is locked."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import User
from generations.errors import ModelUnavailable
from generations.models import AIModel
from generations.rules import model_price
from generations.services.inputs import start_inputs_check, start_request_clean, uploads_for_start


@dataclass(frozen=True)
class Quote:
    price: int  # credits a start with the same body would charge
    balance: int  # the user's credits now


def generation_quote(
    *,
    user: User,
    model_slug: str,
    prompt: str,
    params: dict[str, Any] | None = None,
    images: Sequence[str] | None = None,
) -> Quote:
    """What a start with these inputs would cost. Raises what a start's validation
    raises (ValidationFailed, ModelUnavailable); never the limits or credits."""
    request = start_request_clean(
        model_slug=model_slug, prompt=prompt, params=params, images=images, idempotency_key=None
    )
    model = AIModel.objects.filter(slug=request.model_slug, is_active=True).first()
    if model is None:
        raise ModelUnavailable(details={"model": request.model_slug[:64]})
    uploads = uploads_for_start(user_id=user.pk, image_ids=request.images, now=timezone.now(), lock=False)
    inputs = start_inputs_check(model=model, request=request, uploads=uploads)
    return Quote(
        price=model_price(model=model, params=inputs.params, images=len(inputs.images)),
        balance=user.credits,
    )
