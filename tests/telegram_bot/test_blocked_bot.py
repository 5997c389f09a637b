"""Telegram tells the bot when a user blocks or unblocks it."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_blocking_marks_the_user_unreachable_and_unblocking_reachable(feed, updates, owner, owner_profile):
    feed(updates.membership(owner_profile, old="member", new="kicked"))
    assert User.objects.get(pk=owner.pk).is_reachable is False

    feed(updates.membership(owner_profile, old="kicked", new="member"))
    assert User.objects.get(pk=owner.pk).is_reachable is True


def test_an_unknown_user_blocking_the_bot_changes_nothing(feed, updates, fake_telegram):
    from tests.fakes.telegram_updates import telegram_profile

    feed(updates.membership(telegram_profile(7007), old="member", new="kicked"))

    assert not User.objects.filter(telegram_id=7007).exists()
    assert not fake_telegram.calls_to("sendMessage")
