"""End to end: nothing paid is lost by the bot process. `manage.py runbot` (webhook
and polling) and a real `qcluster` on PostgreSQL, against the fake Bot API, while
the database refuses writes or the bot dies in the middle of a payment."""

import contextlib
import socket
import sys
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from accounts.models import CreditKind, CreditLedgerEntry
from payments.models import Payment
from payments.services import payment_pending_create
from telegram_bot import tasks
from telegram_bot.models import TelegramUpdate
from telegram_bot.services import updates_due
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.telegram_bot.runbot import BOT_APP, WEBHOOK_PATH, WEBHOOK_SECRET, RunBot, bot_env, database_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

def _admin() -> psycopg.Connection:
    return psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=True)


def _bot_backends_terminate(admin: psycopg.Connection) -> int:
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = %s", [BOT_APP],
    ).fetchall()
    return len(rows)


@contextlib.contextmanager
def database_refusing_writes() -> Iterator[None]:
    """Like a failover to a replica: every new session of the database is read-only,
    and the bot's sessions are cut, so it reconnects into that. Afterwards the bot's
    read-only sessions are cut again, so it reconnects into a writable database."""
    with _admin() as admin:
        (name,) = admin.execute("SELECT current_database()").fetchall()[0]
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        try:
            _bot_backends_terminate(admin)
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            _bot_backends_terminate(admin)


@contextlib.contextmanager
def payments_refused(*, sleep: bool = False) -> Iterator[None]:
    """A trigger makes every change of a payment fail (or hang, with `sleep`)."""
    body = "PERFORM pg_sleep(120); RETURN NEW;" if sleep else "RAISE EXCEPTION 'simulated outage';"
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$;
            CREATE TRIGGER refuse BEFORE UPDATE ON payments_payment FOR EACH ROW EXECUTE FUNCTION refuse();
        """)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS refuse ON payments_payment; DROP FUNCTION IF EXISTS refuse();")


@pytest.fixture
def updates() -> TelegramUpdates:
    return TelegramUpdates(first_update_id=600_001)


def _paid_update(fake_telegram, updates, owner, packs) -> tuple[Payment, dict]:
    pending = payment_pending_create(user=owner, pack_slug="big")
    profile = telegram_profile(owner.telegram_id, first_name="Owner")
    paid = fake_telegram.stars.payment(profile, payload=pending.invoice_payload, amount=pending.stars)
    return pending, updates.stars_payment(profile, paid)


def _credited_once(owner, payment: Payment) -> None:
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert payment.status == "paid"
    assert owner.credits == payment.credits
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.PURCHASE).count() == 1


def test_the_webhook_refuses_strangers_and_oversized_bodies_before_reading_them(processes):
    bot = processes["bot"]()

    def raw(headers: dict[str, str], body: bytes = b"") -> int:
        with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as sock:
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            sock.sendall(f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: bot\r\n{head}\r\n".encode() + body)
            return int(sock.recv(1024).split(b" ", 2)[1])

    # 10 MB announced, none sent: answered at once from the headers alone, secret or not.
    assert raw({"Content-Length": "10000000", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) == 413
    assert raw({"Content-Length": "10000000", "X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 413
    assert raw({"Content-Length": "2", "X-Telegram-Bot-Api-Secret-Token": "wrong"}, b"{}") == 403
    assert raw({"Content-Length": "2"}, b"{}") == 403
    assert raw({"Transfer-Encoding": "chunked", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) == 411
    assert bot.post({"no": "update_id"}).status_code == 400
    assert raw({"Content-Length": "8", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b"not json") == 400
    assert not TelegramUpdate.objects.exists()


def test_a_payment_while_the_database_refuses_writes_is_not_acknowledged_and_is_credited_once_when_resent(
        processes, fake_telegram, updates, owner, packs, audit_passes):
    bot = processes["bot"]()
    payment, update = _paid_update(fake_telegram, updates, owner, packs)

    with database_refusing_writes():
        assert bot.post(update).status_code == 503  # so Telegram delivers it again
        assert bot.post(update).status_code == 503
        assert not TelegramUpdate.objects.filter(pk=update["update_id"]).exists()

    # Telegram's next delivery after the outage.
    assert bot.post(update).status_code == 200
    wait_until(lambda: Payment.objects.get(pk=payment.pk).status == "paid", what="the payment to be confirmed")
    assert bot.post(update).status_code == 200  # and a late repeat changes nothing
    bot.wait_logged(f"update {update['update_id']} delivered again: dropped")
    _credited_once(owner, payment)
    (reply,) = fake_telegram.wait_for("sendMessage")
    assert reply["text"] == "Payment received: +700 credits. Your balance: 700 credits."


def test_a_stored_payment_the_bot_could_not_process_is_credited_once_by_the_worker(
        processes, fake_telegram, updates, owner, packs, audit_passes, settings):
    settings.TELEGRAM_UPDATE_RETRY_BASE_SECONDS = 0  # this process's sweep: no grace for fresh updates
    bot = processes["bot"](TELEGRAM_UPDATE_RETRY_BASE_SECONDS="1")
    payment, update = _paid_update(fake_telegram, updates, owner, packs)

    with payments_refused():
        assert bot.post(update).status_code == 200  # stored: acknowledged
        wait_until(lambda: TelegramUpdate.objects.filter(pk=update["update_id"], attempts=1, status="pending").exists(),
                   what="the failed first attempt")
    assert Payment.objects.get(pk=payment.pk).status == "pending"

    processes["worker"]()
    wait_until(lambda: updates_due(), what="the retry to be due")
    assert tasks.updates_sweep()["enqueued"] == 1
    wait_until(lambda: TelegramUpdate.objects.get(pk=update["update_id"]).status == "processed", seconds=60,
               what="the worker to process the update")
    assert bot.post(update).status_code == 200  # Telegram's repeat
    _credited_once(owner, payment)
    assert TelegramUpdate.objects.get(pk=update["update_id"]).attempts == 2


def test_a_payment_whose_bot_died_mid_way_is_credited_once_by_the_worker(
        processes, fake_telegram, updates, owner, packs, audit_passes):
    bot = processes["bot"](TELEGRAM_UPDATE_LEASE_SECONDS="2")
    payment, update = _paid_update(fake_telegram, updates, owner, packs)

    with payments_refused(sleep=True), _admin() as admin:
        assert bot.post(update).status_code == 200
        wait_until(lambda: admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND wait_event = 'PgSleep'", [BOT_APP],
        ).fetchone(), what="the bot to be in the middle of confirming the payment")
        # Storing does not wait behind a handler stuck in the database: other updates are acknowledged.
        other = updates.command(telegram_profile(owner.telegram_id, first_name="Owner"), "balance")
        assert bot.post(other).status_code == 200
        assert TelegramUpdate.objects.filter(pk=other["update_id"]).exists()
        bot.kill()  # SIGKILL, in the middle of the payment's transaction
        _bot_backends_terminate(admin)  # its transaction rolls back
    stored = TelegramUpdate.objects.get(pk=update["update_id"])
    assert (stored.status, stored.attempts) == ("processing", 1)
    assert Payment.objects.get(pk=payment.pk).status == "pending"

    processes["worker"]()
    wait_until(lambda: updates_due(), what="the dead bot's lease to run out")
    tasks.updates_sweep()
    wait_until(lambda: TelegramUpdate.objects.get(pk=update["update_id"]).status == "processed", seconds=60,
               what="the worker to process the update")
    _credited_once(owner, payment)


def test_polling_stores_each_update_before_it_moves_the_offset(tmp_path, fake_telegram, updates, owner, packs,
                                                               audit_passes):
    env = bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_URL="",
                  DATABASE_URL=f"{database_url()}?application_name={BOT_APP}")
    bot = RunBot(log=tmp_path / "runbot.log", env=env, port=None).start()
    try:
        fake_telegram.wait_for("getUpdates", timeout=30)
        payment, update = _paid_update(fake_telegram, updates, owner, packs)
        with database_refusing_writes():
            fake_telegram.push_update(update)
            seen = len(fake_telegram.calls_to("getUpdates"))
            fake_telegram.wait_for("getUpdates", count=seen + 2, timeout=30)  # fetched, refused, fetched again
            assert not TelegramUpdate.objects.filter(pk=update["update_id"]).exists()
            offsets = [int(call.get("offset") or 0) for call in fake_telegram.calls_to("getUpdates")]
            assert max(offsets) <= update["update_id"]  # Telegram was never told to forget it

        wait_until(lambda: Payment.objects.get(pk=payment.pk).status == "paid", seconds=30,
                   what="the payment to be confirmed")
        wait_until(lambda: any(int(call.get("offset") or 0) == update["update_id"] + 1
                               for call in fake_telegram.calls_to("getUpdates")), what="the offset to move on")
        _credited_once(owner, payment)
    finally:
        bot.kill()
        sys.stdout.write(bot.output()[-4000:])
