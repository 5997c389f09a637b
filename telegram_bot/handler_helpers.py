"""What every bot handler needs: the application's types, the sender as a
`TelegramUser`, the user's language, the private-chat filter."""

from contextlib import AbstractContextManager
from typing import Any, TypeVar

from django.utils import translation
from telegram import User as TelegramProfile
from telegram.ext import Application, ContextTypes, ExtBot, JobQueue, filters

from accounts.telegram_init_data import TelegramUser
from core.i18n import user_language

Context = ContextTypes.DEFAULT_TYPE
# What ApplicationBuilder().build() makes: the default bot, context and data types.
BotApplication = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]
]
PRIVATE = filters.ChatType.PRIVATE

T = TypeVar("T")


class UnexpectedUpdate(Exception):
    """An update without what its handler's filter promises (a message, a sender):
    a bug in the registration, reported by `on_error` like any failure."""


def present(value: T | None, what: str) -> T:
    if value is None:
        raise UnexpectedUpdate(f"the update has no {what}")
    return value


def telegram_user_from(profile: TelegramProfile) -> TelegramUser:
    return TelegramUser(
        id=profile.id,
        first_name=profile.first_name or "",
        last_name=profile.last_name or "",
        username=profile.username or "",
        language_code=profile.language_code or "",
        is_premium=bool(profile.is_premium),
    )


def in_language(language_code: str | None) -> AbstractContextManager[None]:
    """Texts built inside come out in the user's language (en or ru)."""
    return translation.override(user_language(language_code))
