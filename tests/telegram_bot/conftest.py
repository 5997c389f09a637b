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
from tests.telegram_bot.helpers import MINI_APP_URL


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


@pytest.fixture
def packs(db: None) -> list[Any]:
    """The shop of these tests: two packs on sale (the default ones are withdrawn)."""
    from payments.models import CreditPack
    from tests.factories import CreditPackFactory

    CreditPack.objects.update(is_active=False)
    return [
        CreditPackFactory.create(slug="small", title="Small: 60 credits", title_ru="Малый: 60 кредитов",
                                 stars=50, credits=60, sort_order=1),
        CreditPackFactory.create(slug="big", title="Big: 700 credits", title_ru="Большой: 700 кредитов",
                                 stars=500, credits=700, sort_order=2),
    ]


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    """The default catalog's image models the chat tests name, whatever an earlier
    transactional test left of the data migration's rows."""
    from generations.models import AIModel

    entries = {
        "nano-banana": ("Nano Banana", 10, 10),
        "flux-schnell": ("FLUX.1 [schnell]", 3, 20),
        "flux-pro-ultra": ("FLUX 1.1 [pro] Ultra", 15, 30),
    }
    return {
        slug: AIModel.objects.update_or_create(slug=slug, defaults={
            "name": name, "kind": AIModel.Kind.IMAGE, "provider_model_id": slug, "price": price,
            "sort_order": order, "is_active": True, "params_schema": {},
        })[0]
        for slug, (name, price, order) in entries.items()
    }
