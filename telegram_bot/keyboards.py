"""Buttons of the bot. Telegram opens a Mini App only from an HTTPS address, so
with another MINI_APP_URL (a local run) there is no app button and the texts
name the address instead."""

from django.conf import settings
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MenuButtonWebApp, WebAppInfo

from telegram_bot import texts

BUY_CALLBACK_PREFIX = "buy:"


def mini_app_available() -> bool:
    url: str = settings.MINI_APP_URL
    return url.startswith("https://")


def open_app_keyboard() -> InlineKeyboardMarkup | None:
    """One button that opens the Mini App (in the active language), or None."""
    if not mini_app_available():
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.open_app_button(), web_app=WebAppInfo(url=settings.MINI_APP_URL))]]
    )


def app_menu_button() -> MenuButtonWebApp | None:
    """The chat's menu button opening the Mini App, or None."""
    if not mini_app_available():
        return None
    return MenuButtonWebApp(text=texts.menu_button(), web_app=WebAppInfo(url=settings.MINI_APP_URL))


def packs_keyboard(packs: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per pack: (slug, label). The callback data names the pack."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"{BUY_CALLBACK_PREFIX}{slug}")] for slug, label in packs]
    )
