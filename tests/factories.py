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
        provider_model_id=provider_model_id or ("flux/schnell" if kind == AIModel.Kind.IMAGE else "kling/v1"),
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


# --- promotions ---------------------------------------------------------------------------


def promo_code_create(*, code: str = "", credits: int = 25, max_redemptions: int = 100,
                      expires_at: datetime | None = None, is_active: bool = True):
    """A promo code as staff make it in the admin (stored normalised)."""
    from promotions.models import PromoCode

    return PromoCode.objects.create(code=(code or f"TEST{next(_numbers)}").strip().upper(), credits=credits,
                                    max_redemptions=max_redemptions, expires_at=expires_at, is_active=is_active)


# --- broadcasts ---------------------------------------------------------------------------


def recipients_create(count: int, *, first_telegram_id: int = 300_000, **fields) -> list[User]:
    """`count` Telegram users the bot can write to (bulk: one INSERT)."""
    users = [User(telegram_id=first_telegram_id + i, first_name=f"R{i}", language_code="en",
                  referral_code=f"r{first_telegram_id + i}", **fields) for i in range(count)]
    return User.objects.bulk_create(users)


def broadcast_create(*, text: str = "<b>News</b>: something new in NanoGen", previewed: bool = True, **fields):
    """A draft broadcast (previewed, so it may start, unless told otherwise)."""
    from telegram_bot.broadcasts.models import Broadcast

    values = {"title": f"Broadcast {next(_numbers)}", "text": text, **fields}
    if previewed:
        values["previewed_at"] = timezone.now()
    return Broadcast.objects.create(**values)
