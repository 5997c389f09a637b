"""The bot's admin pages are read-only and answer; failed updates can be retried."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from core.task_names import UPDATE_PROCESS
from telegram_bot.models import TelegramUpdate
from telegram_bot.services import update_store
from telegram_bot.tasks import generation_notify
from tests.telegram_bot.helpers import generation_finished
from tests.telegram_bot.queue import queued

pytestmark = pytest.mark.django_db


def test_staff_see_notifications_and_updates_read_only(staff_user, owner, bot_settings, fake_telegram):
    generation_notify(generation_finished(owner).pk)
    update_store(payload={"update_id": 123456, "message": {"message_id": 1, "date": 1, "text": "hi",
                                                          "chat": {"id": 5, "type": "private"}}})
    client = Client()
    client.force_login(staff_user)

    page = client.get("/admin/telegram_bot/generationnotification/")
    assert page.status_code == 200 and b"sendPhoto" in page.content
    page = client.get("/admin/telegram_bot/telegramupdate/")
    assert page.status_code == 200 and b"123456" in page.content
    page = client.get("/admin/telegram_bot/telegramupdate/123456/change/")
    assert page.status_code == 200 and b"&quot;text&quot;: &quot;hi&quot;" in page.content  # the JSON as received
    assert client.get("/admin/telegram_bot/telegramupdate/add/").status_code == 403
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
    assert client.get("/admin/telegram_bot/telegramupdate/").status_code == 302


def _failed(update_id: int) -> None:
    update_store(payload={"update_id": update_id})
    TelegramUpdate.objects.filter(pk=update_id).update(status="failed", attempts=5, last_error="RuntimeError: boom")


def test_staff_retry_failed_updates_which_go_back_to_the_worker(staff_user):
    _failed(7001)
    update_store(payload={"update_id": 7002})  # pending: not failed, left alone
    client = Client()
    client.force_login(staff_user)

    page = client.post("/admin/telegram_bot/telegramupdate/",
                       {"action": "retry", "_selected_action": ["7001", "7002"]}, follow=True)

    assert page.status_code == 200
    assert b"1 updates handed to the worker again" in page.content
    retried = TelegramUpdate.objects.get(pk=7001)
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, "RuntimeError: boom")
    assert [task["kwargs"] for task in queued(UPDATE_PROCESS)] == [{"update_id": 7001}]


def test_retrying_needs_its_own_permission():
    _failed(7003)
    viewer = User.objects.create_user(email="viewer@example.com", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_telegramupdate"))
    client = Client()
    client.force_login(viewer)

    page = client.get("/admin/telegram_bot/telegramupdate/")
    assert page.status_code == 200 and b'value="retry"' not in page.content
    client.post("/admin/telegram_bot/telegramupdate/", {"action": "retry", "_selected_action": ["7003"]})
    assert TelegramUpdate.objects.get(pk=7003).status == "failed"
