"""/balance, /help, /paysupport, and whatever else users write to the bot."""

import pytest

from accounts.models import User
from tests.helpers import credits_give
from tests.telegram_bot.helpers import ADMIN_CHAT_ID, MINI_APP_URL
from tests.telegram_bot.queue import queued, queued_run

pytestmark = pytest.mark.django_db

OPEN_APP = {"inline_keyboard": [[{"text": "Open NanoGen", "web_app": {"url": MINI_APP_URL}}]]}
ALERT = "telegram_bot.tasks.admin_alert_send"


def test_balance_shows_the_users_credits(feed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 21)

    feed(updates.command(owner_profile, "balance"))

    reply = fake_telegram.last("sendMessage")
    assert reply["text"] == "Your balance: 21 credits.\nTop up with /buy."
    assert reply["reply_markup"] == OPEN_APP


def test_balance_in_russian_uses_the_right_plural(feed, updates, fake_telegram, owner, owner_profile):
    credits_give(owner, 21)
    owner_profile["language_code"] = "ru"

    feed(updates.command(owner_profile, "balance"))

    assert fake_telegram.last("sendMessage")["text"].startswith("Ваш баланс: 21 кредит.")


def test_balance_registers_a_user_it_has_not_seen(feed, updates, fake_telegram):
    from tests.fakes.telegram_updates import telegram_profile

    feed(updates.command(telegram_profile(6006, first_name="New"), "balance"))

    assert User.objects.filter(telegram_id=6006).exists()
    assert fake_telegram.last("sendMessage")["text"].startswith("Your balance: 0 credits.")


def test_help_lists_the_commands(feed, updates, fake_telegram, owner_profile):
    feed(updates.command(owner_profile, "help"))

    text = fake_telegram.last("sendMessage")["text"]
    for command in ("/start", "/balance", "/buy", "/promo", "/paysupport", "/help"):
        assert command in text


def test_paysupport_names_the_support_contact(feed, updates, fake_telegram, owner_profile, bot_settings):
    bot_settings.TELEGRAM_SUPPORT_CONTACT = "@nanogen_support"

    feed(updates.command(owner_profile, "paysupport"))

    text = fake_telegram.last("sendMessage")["text"]
    assert text.startswith("Questions about a payment?")
    assert "Write to @nanogen_support with the date and the amount of the payment" in text
    assert not queued(ALERT)


def test_paysupport_without_a_contact_tells_the_admins_once(feed, updates, fake_telegram, owner, owner_profile,
                                                            bot_settings):
    bot_settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID

    feed(updates.command(owner_profile, "paysupport"), updates.command(owner_profile, "paysupport"))

    (reply, _again) = fake_telegram.calls_to("sendMessage")
    assert "Our team has been told and will contact you here within a day." in reply["text"]
    (alert,) = queued(ALERT)  # the repeat within the interval is not sent again
    assert alert["kwargs"]["text"].startswith(f"🆘 /paysupport from @owner ({owner.telegram_id})")
    assert "no payments" in alert["kwargs"]["text"]

    assert queued_run(ALERT) == [True]
    sent = fake_telegram.last("sendMessage")
    assert (sent["chat_id"], sent["text"]) == (ADMIN_CHAT_ID, alert["kwargs"]["text"])


def test_paysupport_with_nobody_to_tell_promises_nothing(feed, updates, fake_telegram, owner_profile):
    feed(updates.command(owner_profile, "paysupport"))

    text = fake_telegram.last("sendMessage")["text"]
    assert "contact you" not in text and "Write to" not in text


def test_anything_but_text_and_commands_points_at_the_app(feed, updates, fake_telegram, owner_profile):
    sticker = {"file_id": "CAACAgI", "file_unique_id": "AgAD", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}
    feed(updates.message(owner_profile, sticker=sticker), updates.command(owner_profile, "nosuchcommand"))

    replies = fake_telegram.calls_to("sendMessage")
    assert len(replies) == 2
    for reply in replies:
        assert reply["text"] == "Describe what you want in a message and I will create it, or open the app."
        assert reply["reply_markup"] == OPEN_APP
