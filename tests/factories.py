"""Catalog models and generations for tests, made the way the start service makes them:
the price is debited through accounts.services with the reference `generation:<id>`."""

import itertools
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import CreditKind, User
from accounts.services import credits_apply, credits_change, user_lock
from generations.models import AIModel, Generation
from generations.services.lifecycle import generation_reference

_numbers = itertools.count(1)


def aimodel_create(
    *,
    kind: str = AIModel.Kind.IMAGE,
    provider: str = AIModel.Provider.AIMLAPI,
    price: int = 3,
    provider_model_id: str = "",
    name: str = "",
) -> AIModel:
    number = next(_numbers)
    return AIModel.objects.create(
        slug=f"test-{kind}-{number}",
        name=name or f"Test {kind} {number}",
        kind=kind,
        provider=provider,
        # Ids the AIML API documents (its fake refuses others).
        provider_model_id=provider_model_id
        or ("flux/schnell" if kind == AIModel.Kind.IMAGE else "klingai/v2.1-master-text-to-video"),
        price=price,
    )


def generation_create(
    *,
    user: User,
    model: AIModel,
    prompt: str = "a red fox in the snow",
    params: dict | None = None,
    timeout_at: datetime | None = None,
) -> Generation:
    """A pending generation, charged; grants the user the price first when they lack it."""
    with transaction.atomic():
        locked = user_lock(user_id=user.pk)
        if locked.credits < model.price:
            credits_change(user_id=user.pk, amount=model.price - locked.credits, kind=CreditKind.GRANT, note="test")
            locked = user_lock(user_id=user.pk)
        generation = Generation.objects.create(
            user=user,
            model=model,
            kind=model.kind,
            prompt=prompt,
            params=params or {},
            credits_charged=model.price,
            timeout_at=timeout_at or timezone.now() + timedelta(seconds=settings.GENERATION_TIMEOUT_SECONDS),
        )
        credits_apply(
            user=locked,
            amount=-model.price,
            kind=CreditKind.GENERATION_CHARGE,
            reference=generation_reference(generation.pk),
        )
    return generation
