"""A start the service refused, told in the user's language with the way out: /buy
for credits, when to try again for the limits, /model for a model gone; the upload
limits for a picture given to the bot."""

from telegram import InlineKeyboardMarkup

from accounts.errors import InsufficientCredits, UserBanned
from core.errors import DomainError, NotFound, ValidationFailed
from generations.errors import MaxActiveGenerations, ModelUnavailable, RateLimitExceeded, UploadRateLimitExceeded
from telegram_bot import texts
from telegram_bot.chat import keyboards
from telegram_bot.chat import texts as chat_texts
from telegram_bot.errors import NoModelForImages


def refusal_reply(error: DomainError) -> tuple[str, InlineKeyboardMarkup | None]:
    """The answer to a refused start (call inside the user's language)."""
    details = error.details or {}
    if isinstance(error, InsufficientCredits):
        text = chat_texts.not_enough_credits(balance=int(details.get("balance", 0)), price=int(details.get("price", 0)))
        return text, keyboards.shop_keyboard()
    if isinstance(error, UploadRateLimitExceeded):
        return chat_texts.uploads_rate_limited(seconds=int(details.get("retry_after", 60))), None
    if isinstance(error, RateLimitExceeded):
        return chat_texts.rate_limited(seconds=int(details.get("retry_after", 60))), None
    if isinstance(error, MaxActiveGenerations):
        return chat_texts.too_many_active(limit=int(details.get("limit", 1))), None
    if isinstance(error, NotFound):
        return chat_texts.generation_gone(), None
    if isinstance(error, NoModelForImages):
        return str(error.message), None
    if isinstance(error, ModelUnavailable):
        return chat_texts.model_unavailable(), None
    if isinstance(error, UserBanned):
        return texts.banned(), None
    if isinstance(error, ValidationFailed) and "index" in details:
        # A result given back to the bot (Edit, Animate) that cannot be used: says why itself.
        return str(error.message), None
    if isinstance(error, ValidationFailed):
        problems = "; ".join(_messages(details))
        return chat_texts.invalid_request(problems=problems or str(error.message)), None
    return str(error.message), None


def _messages(details: object) -> list[str]:
    """The messages of a VALIDATION_ERROR's details ({"prompt": [...]}, {"params": {"x": [...]}})."""
    if isinstance(details, dict):
        return [message for value in details.values() for message in _messages(value)]
    if isinstance(details, list | tuple):
        return [message for value in details for message in _messages(value)]
    return [str(details)]
