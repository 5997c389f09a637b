"""One classifier of failed Bot API calls for every sender of the bot."""

from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from core.telegram_api import TelegramApiError
from telegram_bot.sending import TelegramFailure, telegram_error_classify


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), TelegramFailure.UNREACHABLE),
        (RetryAfter(timedelta(seconds=30)), TelegramFailure.TRANSIENT),
        (TimedOut(), TelegramFailure.TRANSIENT),
        (NetworkError("Bad Gateway"), TelegramFailure.TRANSIENT),
        # BadRequest is a NetworkError in python-telegram-bot, but retrying it changes nothing.
        (BadRequest("Bad Request: chat not found"), TelegramFailure.PERMANENT),
        (TelegramError("Conflict"), TelegramFailure.PERMANENT),
    ],
)
def test_python_telegram_bot_errors(error, failure):
    assert telegram_error_classify(error).failure == failure


def test_a_429_carries_how_long_to_wait():
    error = telegram_error_classify(RetryAfter(timedelta(seconds=30)))
    assert (error.retry_after, error.detail.startswith("429: ")) == (30.0, True)


@pytest.mark.parametrize(
    ("error", "failure", "retry_after"),
    [
        (TelegramApiError(method="sendMessage", error_code=403, description="Forbidden: bot was kicked"),
         TelegramFailure.UNREACHABLE, None),
        (TelegramApiError(method="sendMessage", error_code=429, description="Too Many Requests", retry_after=7,
                          is_transient=True), TelegramFailure.TRANSIENT, 7),
        (TelegramApiError(method="sendMessage", error_code=None, description="timed out", is_transient=True),
         TelegramFailure.TRANSIENT, None),
        (TelegramApiError(method="sendMessage", error_code=400, description="Bad Request: chat not found"),
         TelegramFailure.PERMANENT, None),
    ],
)
def test_the_web_and_worker_clients_errors(error, failure, retry_after):
    classified = telegram_error_classify(error)
    assert (classified.failure, classified.retry_after) == (failure, retry_after)
