"""/start registers the user, links the referrer and opens the Mini App."""

import pytest

from accounts.models import User
from tests.fakes.telegram_updates import telegram_profile
from tests.telegram_bot.conftest import MINI_APP_URL

pytestmark = pytest.mark.django_db

NEW_ID = 5005


def test_start_registers_the_user_and_answers_with_the_mini_app_button(feed, updates, fake_telegram):
    feed(updates.command(telegram_profile(NEW_ID, first_name="Ann", username="ann", language_code="en"), "start"))

    user = User.objects.get(telegram_id=NEW_ID)
    assert (user.first_name, user.username, user.language_code) == ("Ann", "ann", "en")
    reply = fake_telegram.last("sendMessage")
    assert int(reply["chat_id"]) == NEW_ID
    assert "Hi, Ann!" in reply["text"]
    assert reply["reply_markup"] == {"inline_keyboard": [[{"text": "Open NanoGen", "web_app": {"url": MINI_APP_URL}}]]}
    menu = fake_telegram.last("setChatMenuButton")
    assert int(menu["chat_id"]) == NEW_ID
    assert menu["menu_button"] == {"type": "web_app", "text": "NanoGen", "web_app": {"url": MINI_APP_URL}}
