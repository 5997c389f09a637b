"""The bot's admin pages are read-only and answer."""

import pytest
from django.test import Client

from telegram_bot.services import update_mark_processed
from telegram_bot.tasks import generation_notify
from tests.telegram_bot.helpers import generation_finished

pytestmark = pytest.mark.django_db


def test_staff_see_notifications_and_processed_updates_read_only(staff_user, owner, bot_settings, fake_telegram):
    generation_notify(generation_finished(owner).pk)
    update_mark_processed(update_id=123456)
    client = Client()
    client.force_login(staff_user)

    page = client.get("/admin/telegram_bot/generationnotification/")
    assert page.status_code == 200 and b"sendPhoto" in page.content
    page = client.get("/admin/telegram_bot/processedupdate/")
    assert page.status_code == 200 and b"123456" in page.content
    assert client.get("/admin/telegram_bot/processedupdate/add/").status_code == 403
    assert client.get(f"/admin/telegram_bot/generationnotification/{owner.generations.get().pk}/change/"
                      ).status_code == 200  # viewable, not editable


def test_staff_see_status_messages(staff_user, owner, bot_settings, fake_telegram):
    from telegram_bot.models import StatusMessage

    generation = generation_finished(owner)
    StatusMessage.objects.create(generation=generation, chat_id=owner.telegram_id, message_id=4242, shown="done")
    client = Client()
    client.force_login(staff_user)

    page = client.get("/admin/telegram_bot/statusmessage/")
    assert page.status_code == 200 and b"4242" in page.content
    assert client.get("/admin/telegram_bot/statusmessage/add/").status_code == 403


def test_not_for_users_who_are_not_staff(owner):
    client = Client()
    client.force_login(owner)
    assert client.get("/admin/telegram_bot/processedupdate/").status_code == 302
