"""The python-telegram-bot Application that `manage.py runbot` runs."""

import logging

from django.conf import settings
from django.utils import translation
from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder

from telegram_bot import keyboards, texts
from telegram_bot.handler_helpers import BotApplication
from telegram_bot.handlers import handlers_register
from telegram_bot.sending import bot_api_base_urls

logger = logging.getLogger(__name__)

# What Telegram sends the bot; anything else it does not even deliver.
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query", "my_chat_member", "inline_query"]
# The commands menu, per language: the default list is English.
COMMAND_LANGUAGES = {"": "en", "ru": "ru"}
def application_build() -> BotApplication:
    base_url, base_file_url = bot_api_base_urls()
    application = (
        ApplicationBuilder()
        .token(settings.TELEGRAM_BOT_TOKEN)
        .base_url(base_url)
        .base_file_url(base_file_url)
        # A self-hosted Bot API server in --local mode (TELEGRAM_API_LOCAL).
        .local_mode(settings.TELEGRAM_API_LOCAL)
        # Handlers mostly wait on Telegram; the database work is serialised in
        # Django's one sync thread anyway (telegram_bot.orm).
        .concurrent_updates(settings.TELEGRAM_BOT_CONCURRENT_UPDATES)
        .post_init(bot_profile_set)
        .build()
    )
    handlers_register(application)
    return application


async def bot_profile_set(application: BotApplication) -> None:
    """The commands menu in each language, and the Mini App as every chat's menu
    button. Cosmetic: a failure is logged and the bot runs anyway."""
    bot = application.bot
    try:
        for language_code, language in COMMAND_LANGUAGES.items():
            with translation.override(language):
                commands = [BotCommand(command, description) for command, description in texts.command_descriptions()]
            await bot.set_my_commands(commands, language_code=language_code or None)
        with translation.override("en"):
            menu_button = keyboards.app_menu_button()
        if menu_button is not None:
            await bot.set_chat_menu_button(menu_button=menu_button)
    except TelegramError as exc:
        logger.warning("could not set the bot's commands and menu button: %s", exc)
