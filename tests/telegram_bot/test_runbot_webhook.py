"""End to end: `manage.py runbot` in webhook mode as a real process."""

import signal
import sys

import pytest

from accounts.models import CreditKind, CreditLedgerEntry, User
from payments.models import Payment
from telegram_bot.models import ProcessedUpdate
from tests.factories import CreditPackFactory
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.helpers import api_client_for
from tests.telegram_bot.runbot import WEBHOOK_SECRET, WEBHOOK_URL, RunBot, bot_env, free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_ID = 8008
OPEN_APP = {"inline_keyboard": [[{"text": "Open NanoGen", "web_app": {"url": "https://app.nanogen.test/"}}]]}


@pytest.fixture
def bot(tmp_path, fake_telegram):
    port = free_port()
    bot = RunBot(log=tmp_path / "runbot.log", env=bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_PORT=str(port)),
                 port=port)
    bot.start()
    try:
        bot.wait_serving()
        yield bot
    finally:
        bot.kill()
        sys.stdout.write(bot.output()[-4000:])  # shown when the test fails


@pytest.fixture
def updates():
    return TelegramUpdates(first_update_id=500_001)


def test_start_registers_the_webhook_with_its_secret_and_the_commands(bot, fake_telegram):
    webhook = fake_telegram.last("setWebhook")
    assert (webhook["url"], webhook["secret_token"]) == (WEBHOOK_URL, WEBHOOK_SECRET)
    assert set(webhook["allowed_updates"]) == {"message", "callback_query", "pre_checkout_query", "my_chat_member",
                                               "inline_query"}
    commands = {call.get("language_code"): call["commands"] for call in fake_telegram.calls_to("setMyCommands")}
    assert [c["command"] for c in commands[None]] == ["start", "balance", "buy", "help", "paysupport", "model"]
    assert commands["ru"][2] == {"command": "buy", "description": "Купить кредиты за Telegram Stars"}
    assert fake_telegram.last("setChatMenuButton")["menu_button"]["web_app"] == {"url": "https://app.nanogen.test/"}


def test_updates_without_the_secret_are_refused_and_start_with_it_works(bot, fake_telegram, owner, updates):
    intruder = updates.command(telegram_profile(9009, first_name="Eve"), "start", f"ref_{owner.referral_code}")
    assert bot.post(intruder, secret=None).status_code == 403
    assert bot.post(intruder, secret="wrong-secret").status_code == 403

    start = updates.command(telegram_profile(NEW_ID, first_name="Ann"), "start", f"ref_{owner.referral_code}")
    assert bot.post(start).status_code == 200

    (reply,) = fake_telegram.wait_for("sendMessage")
    assert int(reply["chat_id"]) == NEW_ID and reply["text"].startswith("Hi, Ann!")
    assert reply["reply_markup"] == OPEN_APP
    assert User.objects.get(telegram_id=NEW_ID).referred_by == owner
    assert not User.objects.filter(telegram_id=9009).exists()
    assert not ProcessedUpdate.objects.filter(update_id=intruder["update_id"]).exists()

    # Telegram delivers the same update again: it is dropped, nothing is sent twice.
    assert bot.post(start).status_code == 200
    bot.wait_logged(f"update {start['update_id']} delivered again: dropped")
    assert bot.post(updates.command(telegram_profile(NEW_ID, first_name="Ann"), "balance")).status_code == 200
    fake_telegram.wait_for("sendMessage", count=2)
    assert [int(call["chat_id"]) for call in fake_telegram.calls_to("sendMessage")] == [NEW_ID, NEW_ID]


def test_a_stars_purchase_is_credited_once_however_often_the_payment_arrives(bot, fake_telegram, owner, updates,
                                                                             audit_passes):
    CreditPackFactory.create(slug="bot-pack", title="Bot pack: 300 credits", stars=250, credits=300)
    response = api_client_for(owner.telegram_id, first_name="Owner").post(
        "/api/payments/invoice", {"pack": "bot-pack"}, format="json")
    assert response.status_code == 201, response.json()
    payment = Payment.objects.get(pk=response.json()["payment_id"])
    profile = telegram_profile(owner.telegram_id, first_name="Owner")

    assert bot.post(updates.pre_checkout(profile, payload=payment.invoice_payload, total_amount=250)).status_code == 200
    (answer,) = fake_telegram.wait_for("answerPreCheckoutQuery")
    assert answer["ok"] in (True, "true", "True")

    paid = updates.successful_payment(profile, payload=payment.invoice_payload, total_amount=250,
                                      charge_id="stxE2E000001")
    for _ in range(3):
        assert bot.post(paid).status_code == 200
    bot.wait_logged(f"update {paid['update_id']} delivered again: dropped", count=2)
    (reply,) = fake_telegram.wait_for("sendMessage")
    assert reply["text"] == "Payment received: +300 credits. Your balance: 300 credits."

    owner.refresh_from_db()
    assert owner.credits == 300
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.PURCHASE).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == "paid"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_bot_cleanly(bot, fake_telegram, signum):
    assert bot.stop(signum, timeout=30) == 0
    assert "bot stopped" in bot.output()
    assert "Traceback" not in bot.output()


def test_the_webhook_answers_200_even_when_a_handler_fails(bot, fake_telegram, owner, updates):
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)

    response = bot.post(updates.command(telegram_profile(owner.telegram_id, first_name="Owner"), "balance"))

    assert response.status_code == 200
    bot.wait_logged("failed: NetworkError")
    # The user still hears something went wrong (the second sendMessage works).
    wait_until(lambda: any(call.get("text", "").startswith("Something went wrong")
                           for call in fake_telegram.calls_to("sendMessage")), what="the apology")
