"""The bot's test kit: its settings, updates, and the Application run in-process
against the fake Bot API."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache

from core.logging import log_context
from telegram_bot.application import application_build
from telegram_bot.intake import update_process
from telegram_bot.orm import db
from telegram_bot.services import update_store
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
    """feed(update, ...): the updates arrive as through the webhook, in order: each is
    stored, then the bot's Application processes it (`telegram_bot.intake`), in one
    event loop made for the call (with the test's database connection: Django's
    thread-sensitive sync work runs in the test's own thread under async_to_sync)."""

    def run(*raw_updates: dict[str, Any]) -> None:
        async def process() -> None:
            application = application_build()
            async with application:
                for raw in raw_updates:
                    stored = await db(update_store)(payload=raw)
                    if stored.waiting:
                        await update_process(application, update_id=stored.update_id)

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
def processes(tmp_path: Any, fake_telegram: Any) -> Iterator[dict[str, Callable[..., Any]]]:
    """Real processes on the test database, against the fake Bot API: `bot(**env)` starts
    a `runbot` in webhook mode (as often as asked: replicas), `worker()` a `qcluster`.
    Their logs are printed when a test fails."""
    import sys

    from django.db import connection

    from tests.ops.processes import Process, child_env
    from tests.telegram_bot.runbot import BOT_APP, RunBot, bot_env, database_url, free_port

    bots: list[RunBot] = []
    workers: list[Process] = []

    def bot(**env: str) -> RunBot:
        port = free_port()
        calls = len(fake_telegram.calls_to("setWebhook"))
        env = bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_PORT=str(port),
                      DATABASE_URL=f"{database_url()}?application_name={BOT_APP}", **env)
        started = RunBot(log=tmp_path / f"runbot-{len(bots)}.log", env=env, port=port).start()
        bots.append(started)
        started.wait_serving()
        fake_telegram.wait_for("setWebhook", count=calls + 1)
        return started

    def worker() -> Process:
        started = Process(
            [sys.executable, "manage.py", "qcluster"],
            env=child_env(TELEGRAM_API_BASE_URL=fake_telegram.base_url, Q_WORKERS="1", Q_TIMEOUT="20", Q_RETRY="30",
                          LOG_FORMAT="plain", MINI_APP_URL=MINI_APP_URL, ADMIN_ALERT_CHAT_ID=""),
            log=tmp_path / f"qcluster-{len(workers)}.log",
        ).start()
        workers.append(started)
        return started

    try:
        yield {"bot": bot, "worker": worker}
    finally:
        for started_bot in bots:
            started_bot.kill()
            sys.stdout.write(f"--- {started_bot.log.name}\n" + started_bot.output()[-4000:])
        for started_worker in workers:
            started_worker.stop()
            sys.stdout.write(f"--- {started_worker.log.name}\n" + started_worker.tail())
        connection.close()


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


@pytest.fixture
def photo_catalog(catalog: dict[str, Any]) -> dict[str, Any]:
    """`catalog` with the models that take images as the default catalog has them:
    nano-banana edits 0 to 3 images, and one video model (Kling, prompt optional with
    an image) animates one; every other video model off, so the choice is known."""
    from generations.models import AIModel

    AIModel.objects.filter(slug="nano-banana").update(
        images_min=0, images_max=3, provider_model_id_with_images="google/gemini-2.5-flash-image-edit")
    AIModel.objects.filter(kind=AIModel.Kind.VIDEO).update(is_active=False)
    kling, _ = AIModel.objects.update_or_create(slug="kling-master", defaults={
        "name": "Kling 2.1 Master", "kind": AIModel.Kind.VIDEO,
        "provider_model_id": "klingai/v2.1-master-text-to-video",
        "provider_model_id_with_images": "klingai/v2.1-master-image-to-video", "price": 50, "sort_order": 120,
        "is_active": True, "params_schema": {}, "price_rule": {}, "images_min": 0, "images_max": 1,
        "prompt_optional_with_images": True,
    })
    return {**{slug: AIModel.objects.get(pk=model.pk) for slug, model in catalog.items()}, "kling-master": kling}
