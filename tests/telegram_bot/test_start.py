"""/start registers the user, links the referrer and opens the Mini App."""

import pytest

from accounts.models import User
from tests.fakes.telegram_updates import telegram_profile
from tests.telegram_bot.helpers import MINI_APP_URL

pytestmark = pytest.mark.django_db

NEW_ID = 5005
OPEN_APP = {"inline_keyboard": [[{"text": "Open NanoGen", "web_app": {"url": MINI_APP_URL}}]]}


def new_profile(**fields):
    return telegram_profile(NEW_ID, **{"first_name": "Ann", "username": "ann", **fields})


def test_start_registers_the_user_and_answers_with_the_mini_app_button(feed, updates, fake_telegram):
    feed(updates.command(new_profile(language_code="en"), "start"))

    user = User.objects.get(telegram_id=NEW_ID)
    assert (user.first_name, user.username, user.language_code, user.referred_by) == ("Ann", "ann", "en", None)
    reply = fake_telegram.last("sendMessage")
    assert int(reply["chat_id"]) == NEW_ID
    assert reply["text"].startswith("Hi, Ann! NanoGen turns your words into images and videos with AI.")
    assert "Your balance: 0 credits." in reply["text"]
    assert reply["reply_markup"] == OPEN_APP
    menu = fake_telegram.last("setChatMenuButton")
    assert int(menu["chat_id"]) == NEW_ID
    assert menu["menu_button"] == {"type": "web_app", "text": "NanoGen", "web_app": {"url": MINI_APP_URL}}


def test_start_with_a_referral_code_links_the_referrer(feed, updates, fake_telegram, owner):
    feed(updates.command(new_profile(), "start", f"ref_{owner.referral_code}"))

    user = User.objects.get(telegram_id=NEW_ID)
    assert user.referred_by == owner
    assert "You came with a friend's invitation: welcome!" in fake_telegram.last("sendMessage")["text"]


@pytest.mark.parametrize("parameter", ["ref_nosuchcode", "ref_", "hello", "ref_" + "x" * 60])
def test_an_unknown_code_or_parameter_just_starts(feed, updates, fake_telegram, owner, parameter):
    feed(updates.command(new_profile(), "start", parameter))

    assert User.objects.get(telegram_id=NEW_ID).referred_by is None
    assert fake_telegram.last("sendMessage")["reply_markup"] == OPEN_APP


def test_ones_own_code_links_nobody(feed, updates, fake_telegram, owner, owner_profile):
    feed(updates.command(owner_profile, "start", f"ref_{owner.referral_code}"))

    owner.refresh_from_db()
    assert owner.referred_by is None
    assert "invitation" not in fake_telegram.last("sendMessage")["text"]


def test_an_existing_customer_is_not_relinked(feed, updates, fake_telegram, owner, stranger):
    # Created long ago (the referral window is REFERRAL_LINK_MAX_AGE_HOURS): a link would hand over their purchases.
    from datetime import timedelta

    from django.utils import timezone

    User.objects.filter(pk=stranger.pk).update(created_at=timezone.now() - timedelta(days=30))
    profile = telegram_profile(stranger.telegram_id, first_name="Stranger")

    feed(updates.command(profile, "start", f"ref_{owner.referral_code}"))

    assert User.objects.get(pk=stranger.pk).referred_by is None


def test_start_answers_in_russian_to_a_russian_user(feed, updates, fake_telegram):
    feed(updates.command(new_profile(language_code="ru"), "start"))

    reply = fake_telegram.last("sendMessage")
    assert reply["text"].startswith("Привет, Ann!")
    assert "Ваш баланс: 0 кредитов." in reply["text"]
    assert reply["reply_markup"]["inline_keyboard"][0][0]["text"] == "Открыть NanoGen"


def test_an_unsupported_language_gets_english(feed, updates, fake_telegram):
    feed(updates.command(new_profile(language_code="pt-br"), "start"))

    assert fake_telegram.last("sendMessage")["text"].startswith("Hi, Ann!")


def test_start_updates_the_profile_and_makes_a_blocked_user_reachable_again(feed, updates, fake_telegram, owner):
    User.objects.filter(pk=owner.pk).update(is_reachable=False)

    feed(updates.command(telegram_profile(owner.telegram_id, first_name="Renamed", username="new_name"), "start"))

    owner.refresh_from_db()
    assert (owner.first_name, owner.username, owner.is_reachable) == ("Renamed", "new_name", True)


def test_a_banned_user_is_told_and_gets_no_app_button(feed, updates, fake_telegram, owner, owner_profile):
    User.objects.filter(pk=owner.pk).update(is_banned=True)

    feed(updates.command(owner_profile, "start"))

    reply = fake_telegram.last("sendMessage")
    assert reply["text"] == "Your account is banned."
    assert reply.get("reply_markup") is None
    assert not fake_telegram.calls_to("setChatMenuButton")


def test_without_an_https_mini_app_the_address_is_in_the_text(feed, updates, fake_telegram, bot_settings):
    bot_settings.MINI_APP_URL = "http://127.0.0.1:8000/"

    feed(updates.command(new_profile(), "start"))

    reply = fake_telegram.last("sendMessage")
    assert reply["text"].endswith("The app: http://127.0.0.1:8000/")
    assert reply.get("reply_markup") is None
    assert not fake_telegram.calls_to("setChatMenuButton")


def test_a_start_in_a_group_is_ignored(feed, updates, fake_telegram):
    update = updates.command(new_profile(), "start")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Friends"}

    feed(update)

    assert not User.objects.filter(telegram_id=NEW_ID).exists()
    assert not fake_telegram.calls_to("sendMessage")
