"""A photo goes out as one plain multipart POST (not python-telegram-bot's async stack);
Telegram's refusals of it reach the callers as python-telegram-bot's errors, classified
as before."""

import pytest

from core.telegram_api import TelegramApiError
from telegram_bot.sending import _telegram_error, telegram_error_classify


@pytest.mark.parametrize(
    ("code", "transient", "retry_after"),
    [(None, True, None), (429, True, 7), (500, True, None), (502, True, None), (403, False, None),
     (400, False, None), (404, False, None)],
)
def test_a_plain_calls_error_is_classified_as_python_telegram_bots_would_be(code, transient, retry_after):
    error = TelegramApiError(method="sendPhoto", error_code=code, description="Bad Request: PHOTO_INVALID_DIMENSIONS",
                             retry_after=retry_after, is_transient=transient)
    raised = telegram_error_classify(_telegram_error(error))
    direct = telegram_error_classify(error)
    assert (raised.failure, raised.retry_after) == (direct.failure, direct.retry_after)
