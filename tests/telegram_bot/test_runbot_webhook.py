"""End to end: `manage.py runbot` in webhook mode as a real process."""

import signal
import socket

import pytest
import requests

from accounts.models import CreditKind, CreditLedgerEntry, User
from payments.models import Payment
from telegram_bot.models import TelegramUpdate
from tests.factories import CreditPackFactory
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.helpers import api_client_for
from tests.telegram_bot.runbot import (
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    runbot_serving,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_ID = 8008
OPEN_APP = {"inline_keyboard": [[{"text": "Open NanoGen", "web_app": {"url": "https://app.nanogen.test/"}}]]}


@pytest.fixture
def bot(tmp_path, fake_telegram):
    with runbot_serving(tmp_path, fake_telegram.base_url) as bot:
        yield bot


@pytest.fixture
def updates():
    return TelegramUpdates(first_update_id=500_001)


def test_start_registers_the_webhook_with_its_secret_and_the_commands(bot, fake_telegram):
    # The server listens first, then tells Telegram where it is.
    (webhook,) = fake_telegram.wait_for("setWebhook")
    assert (webhook["url"], webhook["secret_token"]) == (WEBHOOK_URL, WEBHOOK_SECRET)
    assert set(webhook["allowed_updates"]) == {"message", "callback_query", "pre_checkout_query", "my_chat_member",
                                               "inline_query"}
    commands = {call.get("language_code"): call["commands"] for call in fake_telegram.calls_to("setMyCommands")}
    assert [c["command"] for c in commands[None]] == ["start", "balance", "buy", "promo", "help", "paysupport",
                                                      "model"]
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
    assert not TelegramUpdate.objects.filter(update_id=intruder["update_id"]).exists()

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
    assert bot.post(paid).status_code == 200
    (reply,) = fake_telegram.wait_for("sendMessage")
    # Telegram delivers it twice more once it was handled: both are dropped. (Repeats that
    # arrive before the bot took the first on wait for it; the stored update is one row.)
    for _ in range(2):
        assert bot.post(paid).status_code == 200
    bot.wait_logged(f"update {paid['update_id']} delivered again: dropped", count=2)
    assert len(fake_telegram.calls_to("sendMessage")) == 1
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


def raw_request(port: int, head: str, body: bytes = b"") -> bytes:
    """Send a request by hand (headers that promise more than is sent) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode() + b"\r\n\r\n" + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                break
        return answer


def test_an_oversized_body_is_refused_on_its_headers_before_any_of_it_is_read(bot, fake_telegram, updates):
    # 100 MB announced and none of it sent: the answer comes at once, so the server
    # neither waited for nor buffered the body, secret or no secret. (Nothing is sent
    # after the headers: a server that closes with unread bytes resets the connection.)
    for secret in (WEBHOOK_SECRET, "wrong-secret"):
        answer = raw_request(bot.port, f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: bot\r\n"
                                       f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n"
                                       f"X-Telegram-Bot-Api-Secret-Token: {secret}")
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Just over the 1 MiB limit is over it too; and the bot keeps serving.
    answer = raw_request(bot.port, f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: bot\r\nContent-Length: {1024 * 1024 + 1}"
                                   f"\r\nX-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    start = updates.command(telegram_profile(NEW_ID, first_name="Ann"), "start")
    assert bot.post(start).status_code == 200
    fake_telegram.wait_for("sendMessage")


def test_requests_without_a_length_or_with_a_body_that_is_no_update_are_refused(bot, fake_telegram):
    chunked = raw_request(bot.port, f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n"
                                    f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}", b"5\r\nhello\r\n0\r\n\r\n")
    assert chunked.startswith(b"HTTP/1.1 411"), chunked[:200]
    for body in (b"not json", b"[1, 2]", b'{"message": {}}'):
        response = requests.post(f"http://127.0.0.1:{bot.port}{WEBHOOK_PATH}", data=body,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, timeout=10)
        assert response.status_code == 400, body
    assert not fake_telegram.calls_to("sendMessage")
