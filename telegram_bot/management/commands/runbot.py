"""`python manage.py runbot`: the Telegram bot.

With TELEGRAM_WEBHOOK_URL set it serves the webhook itself on
TELEGRAM_WEBHOOK_PORT (behind the TLS proxy that the URL points at; the port must
not be reachable from the internet), registers it with setWebhook and a secret
token, and refuses, before reading the body, any request without the right
X-Telegram-Bot-Api-Secret-Token (403) or with a body over
TELEGRAM_WEBHOOK_MAX_BODY_BYTES (413): see telegram_bot.webhook. Without it, it long-polls (local
development). SIGTERM and SIGINT stop it cleanly: the updates being handled
finish, then it exits with code 0.
"""

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telegram_bot.application import ALLOWED_UPDATES, application_build
from telegram_bot.checks import webhook_settings_problem
from telegram_bot.webhook import webhook_run

logger = logging.getLogger("telegram_bot.runbot")

# setWebhook / deleteWebhook at start-up are retried this often (Telegram may be briefly unreachable).
BOOTSTRAP_RETRIES = 5


class Command(BaseCommand):
    help = "Run the Telegram bot: a webhook server when TELEGRAM_WEBHOOK_URL is set, long polling otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", default="0.0.0.0",  # noqa: S104 - the webhook server listens for the proxy
                            help="Address the webhook server listens on (default 0.0.0.0).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEGRAM_BOT_ENABLED:
            raise CommandError(
                "TELEGRAM_BOT_TOKEN is not set, so there is no bot to run. Get a token from @BotFather and set it "
                "(`make run` starts the bot only when it is set)."
            )
        problem = webhook_settings_problem()
        if problem:
            raise CommandError(problem)

        application = application_build()
        if settings.TELEGRAM_WEBHOOK_URL:
            url_path = urlsplit(settings.TELEGRAM_WEBHOOK_URL).path or "/"
            logger.info("bot starting: webhook %s, listening on %s:%s%s", settings.TELEGRAM_WEBHOOK_URL,
                        options["listen"], settings.TELEGRAM_WEBHOOK_PORT, url_path)
            # Our own server (telegram_bot.webhook), not run_webhook's: it refuses a
            # request on its headers (size, secret) before reading the body.
            asyncio.run(webhook_run(
                application,
                listen=options["listen"],
                port=settings.TELEGRAM_WEBHOOK_PORT,
                path=url_path,
                webhook_url=settings.TELEGRAM_WEBHOOK_URL,
                secret=settings.TELEGRAM_WEBHOOK_SECRET,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=BOOTSTRAP_RETRIES,
            ))
        else:
            logger.info("bot starting: long polling (TELEGRAM_WEBHOOK_URL is not set)")
            application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=BOOTSTRAP_RETRIES)
        logger.info("bot stopped")
