from django.apps import AppConfig
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
