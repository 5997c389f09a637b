"""Helpers of the bot tests: finished generations to notify about, small images, the chats the bot talks to."""

from typing import Any

MINI_APP_URL = "https://app.nanogen.test/"
ADMIN_CHAT_ID = "-1009876543210"


def generation_charges(user: Any) -> int:
    """How many generation charges the user's ledger holds (one per generation started)."""
    from accounts.models import CreditKind, CreditLedgerEntry

    return CreditLedgerEntry.objects.filter(user=user, kind=CreditKind.GENERATION_CHARGE).count()


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes() -> bytes:
    import io

    from PIL import Image

    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def generation_finished(user: Any, *, status: str = "completed", prompt: str = "a red fox in the snow",
                        content_type: str = "image/png", data: bytes | None = None) -> Any:
    """A generation of `user` started, claimed and ended through the real services
    (charged, and refunded when it failed or was cancelled), its result stored."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from generations.models import Generation
    from generations.services import (
        generation_cancel_if_active,
        generation_claim,
        generation_complete,
        generation_fail,
        generation_start,
    )
    from tests.factories import AIModelFactory
    from tests.helpers import credits_give

    model = AIModelFactory.create(price=10)
    credits_give(user, model.price)
    generation = generation_start(user=user, model_slug=model.slug, prompt=prompt)
    generation_claim(generation_id=generation.pk)
    if status == "completed":
        extension = content_type.split("/")[-1]
        name = default_storage.save(f"generations/test/{generation.pk}.{extension}",
                                    ContentFile(data if data is not None else png_bytes()))
        assert generation_complete(generation_id=generation.pk, result_file=name, content_type=content_type)
    elif status == "failed":
        assert generation_fail(generation_id=generation.pk, error_code="PROVIDER_ERROR",
                               error_message="The generation service could not create this result.")
    else:
        assert generation_cancel_if_active(generation_id=generation.pk)
    return Generation.objects.select_related("user").get(pk=generation.pk)


def result_store_and_complete(generation: Any, *, content_type: str = "image/png", data: bytes | None = None) -> Any:
    """A claimed generation completed through the real service with a stored result."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from generations.models import Generation
    from generations.services import generation_complete

    extension = content_type.split("/")[-1]
    name = default_storage.save(f"generations/test/{generation.pk}.{extension}",
                                ContentFile(data if data is not None else png_bytes()))
    assert generation_complete(generation_id=generation.pk, result_file=name, content_type=content_type)
    return Generation.objects.select_related("user", "model").get(pk=generation.pk)
