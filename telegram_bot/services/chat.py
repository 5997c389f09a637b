"""Generating in the chat: the model a user's messages generate with, and starts from
a message or a button, each with the status message the worker keeps up to date.

A start from the chat is keyed by what Telegram delivered (the chat and message of
a text, the message and data of a button): delivered again, or tapped twice, it
meets the generation's idempotency constraint and starts nothing, charges nothing.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from core.task_names import GENERATION_PROGRESS
from generations.errors import ModelUnavailable
from generations.models import AIModel, Generation
from generations.services import generation_start
from generations.services.start import IDEMPOTENCY_KEY_PATTERN
from telegram_bot.hooks import task_enqueue
from telegram_bot.models import BotChat, StatusMessage
from telegram_bot.selectors import bot_model_slug
from telegram_bot.services.progress import status_text

logger = logging.getLogger(__name__)


def chat_idempotency_key(*parts: object) -> str:
    """The idempotency key of one thing Telegram delivered, named by `parts` (say
    "msg", chat id, message id); hashed when it would not fit the key's 64 characters."""
    key = "tg:" + ":".join(str(part) for part in parts)
    if IDEMPOTENCY_KEY_PATTERN.match(key):
        return key
    return "tg:" + hashlib.sha256(key.encode()).hexdigest()[:48]


def bot_model_set(*, user: User, model_id: int) -> AIModel:
    """Make an active catalog model the one the user's messages generate with."""
    model = AIModel.objects.filter(pk=model_id, is_active=True).first()
    if model is None:
        raise ModelUnavailable(details={"model": str(model_id)})
    BotChat.objects.update_or_create(user=user, defaults={"model": model})
    logger.info("user %s generates with %s in the chat", user.pk, model.slug)
    return model


@dataclass(frozen=True)
class ChatStart:
    """A generation started from the chat, and the first text of its status message."""

    generation_id: int
    status_text: str


def chat_generation_start(
    *,
    user: User,
    chat_id: int,
    prompt: str,
    idempotency_key: str,
    model_slug: str | None = None,
    params: dict[str, object] | None = None,
    images: Sequence[str] = (),
) -> ChatStart:
    """Start a generation from the chat (with the user's bot model unless `model_slug`;
    `images`: upload ids, in order) and remember where its status message goes, in one
    transaction: a status message row exists exactly for the generations started here.

    Raises what `generation_start` raises; DuplicateRequest means this delivery or tap
    was handled before (nothing started, nothing charged).
    """
    with transaction.atomic():
        generation = generation_start(
            user=user,
            model_slug=model_slug or bot_model_slug(user=user),
            prompt=prompt,
            params=params,
            images=list(images),
            idempotency_key=idempotency_key,
        )
        StatusMessage.objects.create(generation=generation, chat_id=chat_id)
    return ChatStart(generation_id=generation.pk, status_text=status_text(generation, stage=StatusMessage.Stage.QUEUED))


def chat_generation_again(*, generation: Generation, chat_id: int, idempotency_key: str) -> ChatStart:
    """The same model, prompt and parameters again (the "Again" button)."""
    return chat_generation_start(
        user=generation.user,
        chat_id=chat_id,
        prompt=generation.prompt,
        model_slug=generation.model.slug,
        params=generation.params,
        idempotency_key=idempotency_key,
    )


def status_message_sent(*, generation_id: int, message_id: int) -> None:
    """The bot sent the status message of a generation it started.

    A worker may have moved the generation before this message existed: its progress
    task then found nothing to edit. Looking after the message id is committed closes
    that gap: a change committed before this read is seen here, any later one enqueues
    its own task, which will find the message.
    """
    recorded = StatusMessage.objects.filter(pk=generation_id, message_id__isnull=True).update(message_id=message_id)
    if recorded and Generation.objects.filter(pk=generation_id).exclude(status=Generation.Status.PENDING).exists():
        task_enqueue(GENERATION_PROGRESS, generation_id=generation_id)
