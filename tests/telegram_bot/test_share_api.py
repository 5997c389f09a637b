"""POST /api/generations/<id>/share: a prepared message of the caller's completed
result (savePreparedInlineMessage), for the Mini App's shareMessage."""

import pytest

from accounts.models import User
from telegram_bot.models import ResultMessage
from telegram_bot.tasks import generation_notify
from tests.telegram_bot.helpers import MINI_APP_URL, generation_finished

pytestmark = pytest.mark.django_db


def share(client, generation_id: int):
    return client.post(f"/api/generations/{generation_id}/share")


def test_a_completed_result_is_prepared_with_a_make_yours_button(owner, owner_client, bot_settings, fake_telegram):
    generation = generation_finished(owner, prompt="a red fox in the snow")
    assert generation_notify(generation.pk) == "sent"

    response = share(owner_client, generation.pk)

    assert response.status_code == 200, response.json()
    body = response.json()
    (call,) = fake_telegram.calls_to("savePreparedInlineMessage")
    assert body["prepared_message_id"].startswith("prepared") and body["expiration_date"]
    assert call["user_id"] == owner.telegram_id
    assert (call["allow_user_chats"], call["allow_group_chats"]) == (True, True)
    result = call["result"]
    assert (result["type"], result["caption"]) == ("photo", "a red fox in the snow")
    assert result["photo_file_id"] == ResultMessage.objects.get(generation=generation).file_id
    assert result["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Make yours", "url": f"https://t.me/nanogen_test_bot?start=ref_{owner.referral_code}"}


def test_a_result_telegram_does_not_hold_goes_by_its_public_url(owner, owner_client, bot_settings, fake_telegram):
    generation = generation_finished(owner)  # never notified: no file id

    response = share(owner_client, generation.pk)

    assert response.status_code == 200
    result = fake_telegram.last("savePreparedInlineMessage")["result"]
    assert result["type"] == "photo"
    assert result["photo_url"] == MINI_APP_URL.rstrip("/") + generation.result_file.url


def test_somebody_elses_generation_is_not_found(owner, stranger_client, bot_settings, fake_telegram):
    generation = generation_finished(owner)

    response = share(stranger_client, generation.pk)

    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")
    assert share(stranger_client, 987654).status_code == 404
    assert not fake_telegram.calls_to("savePreparedInlineMessage")


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_only_completed_generations_are_shareable(owner, owner_client, bot_settings, fake_telegram, status):
    generation = generation_finished(owner, status=status)

    response = share(owner_client, generation.pk)

    assert (response.status_code, response.json()["code"]) == (409, "GENERATION_NOT_SHAREABLE")
    assert not fake_telegram.calls_to("savePreparedInlineMessage")


def test_a_result_with_nothing_to_show_is_not_shareable(owner, owner_client, bot_settings, fake_telegram):
    bot_settings.MINI_APP_URL = "http://127.0.0.1:8000/"  # no public address for the file
    generation = generation_finished(owner)

    response = share(owner_client, generation.pk)

    assert (response.status_code, response.json()["code"]) == (409, "GENERATION_NOT_SHAREABLE")


def test_telegram_down_is_503(owner, owner_client, bot_settings, fake_telegram):
    generation = generation_finished(owner)
    generation_notify(generation.pk)
    fake_telegram.fail("savePreparedInlineMessage", error_code=502, description="Bad Gateway")

    response = share(owner_client, generation.pk)

    assert (response.status_code, response.json()["code"]) == (503, "TELEGRAM_UNAVAILABLE")


def test_a_banned_user_cannot_share(owner, owner_client, bot_settings, fake_telegram):
    generation = generation_finished(owner)
    User.objects.filter(pk=owner.pk).update(is_banned=True)

    assert share(owner_client, generation.pk).status_code == 403
