"""Duplicate deliveries of the notification task at the same moment send one message."""

import pytest

from telegram_bot.tasks import generation_notify
from tests.helpers import run_in_threads
from tests.telegram_bot.helpers import generation_finished

pytestmark = pytest.mark.django_db(transaction=True)


def test_five_simultaneous_deliveries_send_one_photo(owner, bot_settings, fake_telegram):
    generation = generation_finished(owner)

    outcomes = run_in_threads(5, lambda i: generation_notify(generation.pk))

    assert sorted(outcomes) == ["not_mine"] * 4 + ["sent"]
    assert len(fake_telegram.calls_to("sendPhoto")) == 1
