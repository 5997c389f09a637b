"""Reads for generations: the catalog, a user's history and one generation."""

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import User
from core.errors import NotFound
from generations.models import AIModel, Generation


def model_list_active() -> QuerySet[AIModel]:
    """The catalog users pick from, in the staff's order."""
    return AIModel.objects.filter(is_active=True).order_by("sort_order", "id")


def generation_list_for_user(
    *, user: User, statuses: Iterable[str] | None = None, kind: str | None = None
) -> QuerySet[Generation]:
    """The user's generations, newest first; one query per page however many rows."""
    generations = Generation.objects.filter(user=user).select_related("model").order_by("-id")
    statuses = list(statuses or [])
    if statuses:
        generations = generations.filter(status__in=statuses)
    if kind:
        generations = generations.filter(kind=kind)
    return generations


def generation_get_for_user(*, user: User, generation_id: int) -> Generation:
    """One of the user's generations; NotFound for anyone else's, as if it did not exist."""
    generation = Generation.objects.select_related("model").filter(pk=generation_id, user=user).first()
    if generation is None:
        raise NotFound()
    return generation


def generation_get_by_key(*, user_id: int, idempotency_key: str) -> Generation | None:
    """The generation that holds an idempotency key (pending, processing or completed)."""
    return (
        Generation.objects.select_related("model")
        .filter(user_id=user_id, idempotency_key=idempotency_key, status__in=Generation.KEY_HOLDING_STATUSES)
        .first()
    )
