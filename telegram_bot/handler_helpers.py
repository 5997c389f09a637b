"""What every bot handler needs: the Telegram profile as a `TelegramUser`, the
user's language, the private-chat filter."""

from contextlib import AbstractContextManager

from django.utils import translation
from telegram import User as TelegramProfile
from telegram.ext import ContextTypes, filters

from accounts.telegram_init_data import TelegramUser
from core.i18n import user_language

Context = ContextTypes.DEFAULT_TYPE
PRIVATE = filters.ChatType.PRIVATE


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
