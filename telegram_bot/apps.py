from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

UPDATES_SWEEP_SCHEDULE_NAME = "telegram_bot: updates sweep"
CHAT_INPUTS_SWEEP_SCHEDULE_NAME = "telegram_bot: chat inputs sweep"


class TelegramBotConfig(AppConfig):
    name = "telegram_bot"
    verbose_name = _("Telegram bot")

    def ready(self) -> None:
        from django.core import checks

        from generations.hooks import GENERATION_CLAIMED
        from generations.hooks import hook_register as generations_hook_register
        from payments.hooks import (
            PAYMENT_ISSUE,
            PAYMENT_REFUNDED_OUTSIDE,
            WITHDRAWAL_DECIDED,
            WITHDRAWAL_REQUESTED,
            hook_register,
        )
        from telegram_bot import hooks
        from telegram_bot.checks import bot_settings_check

        checks.register(bot_settings_check)
        # payments cannot import the bot: it emits events, the bot listens.
        hook_register(PAYMENT_ISSUE, hooks.on_payment_issue)
        hook_register(PAYMENT_REFUNDED_OUTSIDE, hooks.on_payment_refunded_outside)
        hook_register(WITHDRAWAL_REQUESTED, hooks.on_withdrawal_requested)
        hook_register(WITHDRAWAL_DECIDED, hooks.on_withdrawal_decided)
        generations_hook_register(GENERATION_CLAIMED, hooks.on_generation_claimed)
        # After every migrate: exactly one schedule that hands unfinished updates to the worker.
        post_migrate.connect(_updates_sweep_schedule_ensure, sender=self, dispatch_uid="telegram_bot.updates_sweep")
        # And one that hands complete albums (photos sent to the bot) to the worker when the bot did not.
        post_migrate.connect(_chat_inputs_sweep_schedule_ensure, sender=self,
                             dispatch_uid="telegram_bot.chat_inputs_sweep")
        # And one that resumes broadcasts whose worker died.
        post_migrate.connect(_resume_schedule_ensure, sender=self, dispatch_uid="telegram_bot.broadcasts_resume")


def _updates_sweep_schedule_ensure(using: str = "default", **kwargs: Any) -> None:
    from django_q.models import Schedule

    from core.scheduling import schedule_ensure, schedule_table_exists
    from core.task_names import UPDATES_SWEEP

    if schedule_table_exists(using=using):
        schedule_ensure(name=UPDATES_SWEEP_SCHEDULE_NAME, func=UPDATES_SWEEP, using=using,
                        schedule_type=Schedule.MINUTES, minutes=1)


def _chat_inputs_sweep_schedule_ensure(using: str = "default", **kwargs: Any) -> None:
    from django_q.models import Schedule

    from core.scheduling import schedule_ensure, schedule_table_exists
    from core.task_names import CHAT_INPUTS_SWEEP

    if schedule_table_exists(using=using):
        schedule_ensure(name=CHAT_INPUTS_SWEEP_SCHEDULE_NAME, func=CHAT_INPUTS_SWEEP, using=using,
                        schedule_type=Schedule.MINUTES, minutes=1)
def _resume_schedule_ensure(using: str = "default", **kwargs: Any) -> None:
    from core.scheduling import schedule_table_exists
    from telegram_bot.broadcasts.services import resume_schedule_ensure

    if schedule_table_exists(using=using):
        resume_schedule_ensure(using=using)
