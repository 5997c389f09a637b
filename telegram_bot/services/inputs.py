"""Images the user gives the bot beyond a photo with a caption (`services.albums`):
the images that wait in the chat for the text that says what to do with them (a
photo sent without a caption, a result's Edit button), and results turned into the
user's uploads (Edit, Animate: `upload_create_from_result`, as the Mini App's
Animate), so that they pass the same limits as any upload.

Every start here is keyed by what Telegram delivered (the text's chat and message,
the button's message and data), like the other starts from the chat, and a key that
already holds a generation is recognised as a repeat before anything is made: an
update processed again, or a second tap, neither makes another upload nor takes the
waiting images twice.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from generations.errors import DuplicateRequest
from generations.models import AIModel, Generation
from generations.selectors import generation_get_by_key
from generations.services import upload_create_from_result
from telegram_bot.errors import NoModelForImages
from telegram_bot.models import BotChat
from telegram_bot.selectors import input_model
from telegram_bot.services.chat import ChatStart, chat_generation_start, chat_idempotency_key

logger = logging.getLogger(__name__)

_PENDING_CLEARED: dict[str, object] = {"pending_images": [], "pending_kind": "", "pending_source": "",
                                       "pending_until": None}


# --- images waiting for a text ------------------------------------------------------------------


def pending_images_set(*, user: User, images: Sequence[str], source: str, kind: str = "") -> bool:
    """The user's next text in the chat uses `images` (upload ids, in order) for
    BOT_PENDING_INPUT_MINUTES; they replace any images waiting before. False when
    `source` set them already and they still wait (a repeat: nothing changes)."""
    now = timezone.now()
    with transaction.atomic():
        BotChat.objects.bulk_create([BotChat(user=user)], ignore_conflicts=True)
        chat = BotChat.objects.select_for_update().get(user=user)
        if chat.pending_source == source and _waiting(chat.pending_until, now):
            return False
        BotChat.objects.filter(pk=chat.pk).update(
            pending_images=list(images), pending_kind=kind, pending_source=source[:64],
            pending_until=now + timedelta(minutes=settings.BOT_PENDING_INPUT_MINUTES), updated_at=now,
        )
    logger.info("user %s: %s images wait for a text (%s)", user.pk, len(images), source)
    return True


def pending_images_from(*, user: User, source: str) -> bool:
    """Whether the images waiting in the user's chat were set by `source`."""
    until = BotChat.objects.filter(user=user, pending_source=source).values_list("pending_until", flat=True).first()
    return _waiting(until, timezone.now())


def pending_images_expire(*, now: datetime | None = None) -> int:
    """Forget the images that waited longer than BOT_PENDING_INPUT_MINUTES (the
    uploads themselves go with the unused ones, after UPLOAD_KEEP_HOURS)."""
    return BotChat.objects.filter(pending_until__lte=now or timezone.now()).update(**_PENDING_CLEARED)


def _waiting(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def chat_text_start(*, user: User, chat_id: int, message_id: int, text: str) -> ChatStart:
    """A text message: a generation with the images waiting in the chat (taken in the
    same transaction, so a refused start leaves them waiting), else from the text
    alone with the user's bot model. Keyed by the chat and message."""
    key = chat_idempotency_key("msg", chat_id, message_id)
    now = timezone.now()
    with transaction.atomic():
        # The chat's lock orders this text's deliveries (and whatever sets images); the
        # key is read after it, so a delivery that waited sees the generation the other
        # one started with the images, and is a repeat rather than a start without them.
        chat = BotChat.objects.select_for_update().filter(user=user, pending_until__gt=now).first()
        holder = generation_get_by_key(user_id=user.pk, idempotency_key=key)
        if holder is not None:
            raise DuplicateRequest(generation=holder)
        if chat is None or not chat.pending_images:
            return chat_generation_start(user=user, chat_id=chat_id, prompt=text, idempotency_key=key)
        model = input_model(user=user, kind=chat.pending_kind)
        if model is None:
            raise NoModelForImages()
        started = chat_generation_start(user=user, chat_id=chat_id, prompt=text, model_slug=model.slug,
                                        images=chat.pending_images, idempotency_key=key)
        BotChat.objects.filter(pk=chat.pk).update(**_PENDING_CLEARED, updated_at=now)
    return started


# --- results as inputs: Edit and Animate ------------------------------------------------------------
# A result that cannot be used (not a still picture, no longer stored) is refused by
# `upload_create_from_result` (ValidationFailed, `details.index`).


def result_edit_request(*, generation: Generation, position: int) -> bool:
    """The Edit button: the result waits for the user's next text, which an image
    model edits it with. False for a repeat of the same button (nothing new)."""
    user = generation.user
    source = f"result:{generation.pk}:{position}"
    if pending_images_from(user=user, source=source):
        return False
    if input_model(user=user, kind=AIModel.Kind.IMAGE) is None:
        raise NoModelForImages()
    upload = upload_create_from_result(user=user, generation_id=generation.pk, index=position)
    # Two taps at once may both get here: the chat's lock lets one set the images, the
    # other's upload stays unused (swept after UPLOAD_KEEP_HOURS).
    return pending_images_set(user=user, images=[str(upload.pk)], source=source, kind=AIModel.Kind.IMAGE)


def chat_generation_animate(*, generation: Generation, position: int, chat_id: int,
                            idempotency_key: str) -> ChatStart:
    """The Animate button: an image-to-video generation of the result at once, with
    `input_model` of kind video; without a prompt when the model makes it optional,
    else with the result's own prompt."""
    user = generation.user
    holder = generation_get_by_key(user_id=user.pk, idempotency_key=idempotency_key)
    if holder is not None:
        raise DuplicateRequest(generation=holder)
    model = input_model(user=user, kind=AIModel.Kind.VIDEO)
    if model is None:
        raise NoModelForImages()
    upload = upload_create_from_result(user=user, generation_id=generation.pk, index=position)
    prompt = "" if model.prompt_optional_with_images else generation.prompt
    return chat_generation_start(user=user, chat_id=chat_id, prompt=prompt, model_slug=model.slug,
                                 images=[str(upload.pk)], idempotency_key=idempotency_key)
