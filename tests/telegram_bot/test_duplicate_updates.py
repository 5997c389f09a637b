"""Telegram delivers an update again until it gets a 2xx: each update is handled once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from telegram_bot.models import ProcessedUpdate
from telegram_bot.services import processed_updates_prune, update_mark_processed
from telegram_bot.services.updates import PRUNE_EVERY

pytestmark = pytest.mark.django_db


def test_the_same_update_twice_is_handled_once(feed, updates, fake_telegram, owner_profile):
    update = updates.command(owner_profile, "balance")

    feed(update, update)
    feed(update)  # after a restart too: the record is in the database

    assert len(fake_telegram.calls_to("sendMessage")) == 1
    assert ProcessedUpdate.objects.filter(update_id=update["update_id"]).count() == 1


def test_distinct_updates_are_all_handled(feed, updates, fake_telegram, owner_profile):
    feed(updates.command(owner_profile, "balance"), updates.command(owner_profile, "balance"))

    assert len(fake_telegram.calls_to("sendMessage")) == 2


def test_old_records_are_pruned_new_ones_kept(settings):
    settings.TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS = 3
    for update_id in (1, 2):
        assert update_mark_processed(update_id=update_id)
    ProcessedUpdate.objects.filter(update_id=1).update(created_at=timezone.now() - timedelta(days=3, minutes=1))

    assert processed_updates_prune() == 1
    assert list(ProcessedUpdate.objects.values_list("update_id", flat=True)) == [2]


def test_pruning_happens_as_updates_arrive(settings):
    ProcessedUpdate.objects.create(update_id=PRUNE_EVERY - 1)
    ProcessedUpdate.objects.filter(update_id=PRUNE_EVERY - 1).update(created_at=timezone.now() - timedelta(days=30))

    assert update_mark_processed(update_id=PRUNE_EVERY * 3)

    assert list(ProcessedUpdate.objects.values_list("update_id", flat=True)) == [PRUNE_EVERY * 3]
    assert not update_mark_processed(update_id=PRUNE_EVERY * 3)
