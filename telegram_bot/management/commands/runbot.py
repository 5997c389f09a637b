"""`python manage.py runbot`: the Telegram bot.

With TELEGRAM_WEBHOOK_URL set it serves the webhook itself on
TELEGRAM_WEBHOOK_PORT (behind the TLS proxy that the URL points at; the port must
not be reachable from the internet), registers it with setWebhook and a secret
token, and refuses, before reading the body, any request without the right
X-Telegram-Bot-Api-Secret-Token (403) or with a body over
TELEGRAM_WEBHOOK_MAX_BODY_BYTES (413). Without it, it long-polls (local
development). Either way an update is stored in the database before Telegram
is told it arrived (telegram_bot.webhook, telegram_bot.polling). SIGTERM and
SIGINT stop it cleanly: the updates being handled finish, then it exits with
code 0.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telegram_bot.checks import webhook_settings_problem
from telegram_bot.runner import bot_run

logger = logging.getLogger("telegram_bot.runbot")


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
        bot_run(listen=options["listen"])
        logger.info("bot stopped")
