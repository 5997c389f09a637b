"""Admin alerts and the user's news about a withdrawal: payments' events become
Django-Q2 tasks after the commit, and the tasks talk to Telegram."""

import logging

import pytest

from payments.services import withdrawal_approve, withdrawal_reject, withdrawal_request
from telegram_bot.services import admin_alert
from tests.payments.helpers import earnings_give
from tests.telegram_bot.helpers import ADMIN_CHAT_ID
from tests.telegram_bot.queue import clock_forward, queued, queued_run, scheduled, scheduled_run

pytestmark = pytest.mark.django_db

ALERT = "telegram_bot.tasks.admin_alert_send"
REQUESTED = "telegram_bot.tasks.withdrawal_requested_alert"
DECIDED = "telegram_bot.tasks.withdrawal_decided_notify"


@pytest.fixture
def admins(bot_settings):
    bot_settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID
    return bot_settings


@pytest.fixture
def withdrawal(owner, django_capture_on_commit_callbacks):
    earnings_give(owner, 150)
    with django_capture_on_commit_callbacks(execute=True):
        return withdrawal_request(user=owner, amount=120, method="ton", destination="UQ-wallet-address")


def test_a_withdrawal_request_alerts_the_admins(admins, fake_telegram, owner, withdrawal, audit_passes):
    assert [task["kwargs"] for task in queued(REQUESTED)] == [{"withdrawal_id": withdrawal.pk}]

    assert queued_run(REQUESTED) == [True]

    alert = fake_telegram.last("sendMessage")
    assert alert["chat_id"] == ADMIN_CHAT_ID
    assert alert["text"] == (
        f"💸 Withdrawal {withdrawal.pk} requested: 120 Stars by @owner (1001) [user {owner.pk}]\n"
        "TON wallet: UQ-wallet-address\nApprove or reject it in the admin: Payments > Withdrawals."
    )


def test_without_an_admin_chat_no_alert_is_queued(bot_settings, fake_telegram, withdrawal):
    assert not queued(REQUESTED) and not queued(ALERT)


def test_a_rejected_withdrawal_is_told_to_the_user_in_their_language(
    bot_settings, fake_telegram, owner, withdrawal, staff_user, django_capture_on_commit_callbacks, audit_passes,
):
    owner.language_code = "ru"
    owner.save(update_fields=["language_code"])
    with django_capture_on_commit_callbacks(execute=True):
        assert withdrawal_reject(withdrawal_id=withdrawal.pk, staff=staff_user, reason="wrong wallet")

    assert queued_run(DECIDED) == [True]

    message = fake_telegram.last("sendMessage")
    assert int(message["chat_id"]) == owner.telegram_id
    assert message["text"] == (
        "Ваша заявка на вывод 120 Stars отклонена: wrong wallet\nStars вернулись на ваш реферальный баланс.")


def test_a_paid_withdrawal_is_told_and_a_blocked_user_is_marked(
    bot_settings, fake_telegram, owner, withdrawal, staff_user, django_capture_on_commit_callbacks,
):
    fake_telegram.fail("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user")
    with django_capture_on_commit_callbacks(execute=True):
        assert withdrawal_approve(withdrawal_id=withdrawal.pk, staff=staff_user, payout_reference="tx-1")

    assert queued_run(DECIDED) == [False]

    assert fake_telegram.last("sendMessage")["text"] == "Your withdrawal of 120 Stars has been paid out."
    owner.refresh_from_db()
    assert owner.is_reachable is False
    assert not scheduled(DECIDED)


def test_an_alert_telegram_cannot_take_now_is_retried_by_schedule(admins, fake_telegram):
    fake_telegram.fail("sendMessage", error_code=429, description="Too Many Requests: retry after 40",
                       retry_after=40)
    assert admin_alert(text="something broke")

    assert queued_run(ALERT) == [False]
    (retry,) = scheduled(ALERT)
    assert "'attempt': 2" in retry.kwargs

    clock_forward(40)
    assert scheduled_run(ALERT) == [True]
    assert [call["text"] for call in fake_telegram.calls_to("sendMessage")] == ["something broke"] * 2


def test_an_alert_telegram_refuses_is_logged_not_retried(admins, fake_telegram, caplog):
    fake_telegram.fail("sendMessage", error_code=400, description="Bad Request: chat not found")
    admin_alert(text="something broke")

    with caplog.at_level(logging.ERROR):
        assert queued_run(ALERT) == [False]

    assert not scheduled(ALERT)
    assert "admin alert not sent" in caplog.text and "something broke" in caplog.text


def test_rate_limited_alerts_go_out_once_per_interval(admins, fake_telegram):
    assert admin_alert(text="first", rate_key="kind-a")
    assert not admin_alert(text="again", rate_key="kind-a")
    assert admin_alert(text="other kind", rate_key="kind-b")
    assert admin_alert(text="unlimited")
    assert admin_alert(text="unlimited")

    assert [task["kwargs"]["text"] for task in queued(ALERT)] == ["first", "other kind", "unlimited", "unlimited"]
