"""Telegram delivers an update again until it gets a 2xx: each update is handled once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from telegram_bot.models import TelegramUpdate
from telegram_bot.services import update_store, updates_prune

pytestmark = pytest.mark.django_db


def test_the_same_update_twice_is_handled_once(feed, updates, fake_telegram, owner_profile):
    update = updates.command(owner_profile, "balance")

    feed(update, update)
    feed(update)  # after a restart too: the record is in the database

    assert len(fake_telegram.calls_to("sendMessage")) == 1
    stored = TelegramUpdate.objects.get(update_id=update["update_id"])
    assert (stored.status, stored.attempts, stored.kind, stored.telegram_user_id) == (
        "processed", 1, "message", owner_profile["id"])
    assert stored.payload == update  # the JSON as Telegram sent it


def test_distinct_updates_are_all_handled(feed, updates, fake_telegram, owner_profile):
    feed(updates.command(owner_profile, "balance"), updates.command(owner_profile, "balance"))

    assert len(fake_telegram.calls_to("sendMessage")) == 2


def test_old_processed_updates_are_pruned_unfinished_ones_kept(settings):
    settings.TELEGRAM_UPDATES_KEEP_DAYS = 3
    for update_id in (1, 2, 3, 4):
        update_store(payload={"update_id": update_id})
    TelegramUpdate.objects.filter(update_id__in=[1, 2]).update(status="processed")
    TelegramUpdate.objects.filter(update_id=4).update(status="failed")
    TelegramUpdate.objects.filter(update_id__in=[1, 3, 4]).update(
        received_at=timezone.now() - timedelta(days=3, minutes=1))

    assert updates_prune() == 1
    assert sorted(TelegramUpdate.objects.values_list("update_id", flat=True)) == [2, 3, 4]
