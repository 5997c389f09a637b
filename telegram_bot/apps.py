from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TelegramBotConfig(AppConfig):
    name = "telegram_bot"
    verbose_name = _("Telegram bot")

    def ready(self) -> None:
        from django.core import checks

        from payments.hooks import PAYMENT_ISSUE, WITHDRAWAL_DECIDED, WITHDRAWAL_REQUESTED, hook_register
        from telegram_bot import hooks
        from telegram_bot.checks import bot_settings_check

        checks.register(bot_settings_check)
        # payments cannot import the bot: it emits events, the bot listens.
        hook_register(PAYMENT_ISSUE, hooks.on_payment_issue)
        hook_register(WITHDRAWAL_REQUESTED, hooks.on_withdrawal_requested)
        hook_register(WITHDRAWAL_DECIDED, hooks.on_withdrawal_decided)
        # After every migrate: exactly one schedule that resumes broadcasts whose worker died.
        post_migrate.connect(_resume_schedule_ensure, sender=self, dispatch_uid="telegram_bot.broadcasts_resume")


def _resume_schedule_ensure(using: str = "default", **kwargs: Any) -> None:
    from django_q.models import Schedule

    from telegram_bot.broadcasts.services import resume_schedule_ensure

    if Schedule._meta.db_table in connections[using].introspection.table_names():
        resume_schedule_ensure(using=using)
