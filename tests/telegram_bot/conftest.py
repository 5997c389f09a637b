"""The bot's test kit: its settings, updates, and the Application run in-process
against the fake Bot API."""

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from telegram import Update

from core.logging import log_context
from telegram_bot.application import application_build
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile

MINI_APP_URL = "https://app.nanogen.test/"
ADMIN_CHAT_ID = "-1009876543210"


@pytest.fixture
def bot_settings(settings: Any, fake_telegram: Any) -> Any:
    settings.MINI_APP_URL = MINI_APP_URL
    settings.ADMIN_ALERT_CHAT_ID = ""
    settings.TELEGRAM_SUPPORT_CONTACT = ""
    # Alert rate limits live in the (per-process) cache: each test starts afresh.
    cache.clear()
    return settings


@pytest.fixture
def updates() -> TelegramUpdates:
    return TelegramUpdates()


@pytest.fixture
def owner_profile(owner: Any) -> dict[str, Any]:
    return telegram_profile(owner.telegram_id, first_name="Owner", username="owner")


@pytest.fixture
def feed(bot_settings: Any) -> Callable[..., None]:
    """feed(update, ...): the bot's Application handles the updates in order, in one
    event loop made for the call (with the test's database connection: Django's
    thread-sensitive sync work runs in the test's own thread under async_to_sync)."""

    def run(*raw_updates: dict[str, Any]) -> None:
        async def process() -> None:
            application = application_build()
            async with application:
                for raw in raw_updates:
                    await application.process_update(Update.de_json(raw, application.bot))

        with log_context():  # the ids the handlers add to the log context end with the call
            async_to_sync(process)()

    return run


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
    from tests.conftest import credits_give
    from tests.factories import aimodel_create

    model = aimodel_create(price=10)
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


@pytest.fixture
def packs(db: None) -> list[Any]:
    """The shop of these tests: two packs on sale (the default ones are withdrawn)."""
    from payments.models import CreditPack

    CreditPack.objects.update(is_active=False)
    return [
        CreditPack.objects.create(slug="small", title="Small: 60 credits", title_ru="Малый: 60 кредитов",
                                  stars=50, credits=60, sort_order=1),
        CreditPack.objects.create(slug="big", title="Big: 700 credits", title_ru="Большой: 700 кредитов",
                                  stars=500, credits=700, sort_order=2),
    ]
