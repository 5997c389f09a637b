"""Stored updates are processed once: a handler that fails leaves the update to the
worker, which retries it with backoff and, after the last attempt, leaves it to
staff; claims are exclusive and taken over only when their lease ran out."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import CreditKind, CreditLedgerEntry
from core.task_names import UPDATE_PROCESS, UPDATES_SWEEP
from payments.models import Payment
from payments.services import payment_pending_create
from telegram_bot import tasks
from telegram_bot.apps import UPDATES_SWEEP_SCHEDULE_NAME
from telegram_bot.models import TelegramUpdate
from telegram_bot.services import update_claim, update_failed, update_processed, update_store, updates_due
from tests.helpers import run_in_threads
from tests.telegram_bot.helpers import ADMIN_CHAT_ID
from tests.telegram_bot.queue import queued

ALERT_TASK = "telegram_bot.tasks.admin_alert_send"


def _due_now(update_id: int) -> None:
    """As if the retry delay passed."""
    past = timezone.now() - timedelta(hours=1)
    TelegramUpdate.objects.filter(pk=update_id).update(next_attempt_at=past, received_at=past)


@pytest.mark.django_db
def test_a_failed_handler_leaves_the_update_to_the_worker_which_processes_it_once(
        feed, updates, fake_telegram, owner_profile, bot_settings):
    bot_settings.TELEGRAM_UPDATE_RETRY_BASE_SECONDS = 30
    fake_telegram.fail("sendMessage", error_code=400, description="Bad Request: chat not found", times=1)
    update = updates.command(owner_profile, "balance")

    feed(update)

    stored = TelegramUpdate.objects.get(pk=update["update_id"])
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error == "BadRequest: Chat not found"
    assert stored.next_attempt_at > timezone.now() + timedelta(seconds=20)  # the first retry delay
    assert updates_due() == []  # not yet

    _due_now(stored.pk)
    assert updates_due() == [stored.pk]
    assert tasks.update_process(stored.pk) == "processed"  # the worker's task, as Django-Q2 runs it

    stored.refresh_from_db()
    assert (stored.status, stored.attempts, stored.processed_at is not None) == ("processed", 2, True)
    assert tasks.update_process(stored.pk) == "skipped"  # a duplicate task: nothing happens twice
    feed(update)  # and Telegram's repeat neither
    balances = [call for call in fake_telegram.calls_to("sendMessage") if call["text"].startswith("Your balance")]
    assert len(balances) == 2  # refused, then sent once


@pytest.mark.django_db
def test_a_payment_the_database_refused_is_credited_once_by_the_worker(
        feed, updates, fake_telegram, owner, owner_profile, packs, audit_passes):
    pending = payment_pending_create(user=owner, pack_slug="big")
    paid = updates.successful_payment(owner_profile, payload=pending.invoice_payload, total_amount=500,
                                      charge_id="stxOUTAGE01")
    with connection.cursor() as cursor:  # the database refuses to change payments for a while
        cursor.execute("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'simulated outage'; END $$;
            CREATE TRIGGER refuse BEFORE UPDATE ON payments_payment FOR EACH ROW EXECUTE FUNCTION refuse();
        """)
    feed(paid)

    stored = TelegramUpdate.objects.get(pk=paid["update_id"])
    assert (stored.status, stored.kind) == ("pending", "successful_payment")
    assert "simulated outage" in stored.last_error
    assert Payment.objects.get(pk=pending.pk).status == "pending"
    assert fake_telegram.last("sendMessage")["text"].startswith("We received your payment but")

    with connection.cursor() as cursor:  # recovery
        cursor.execute("DROP TRIGGER refuse ON payments_payment; DROP FUNCTION refuse();")
    _due_now(stored.pk)
    assert tasks.update_process(stored.pk) == "processed"
    feed(paid)  # a late repeat from Telegram

    assert Payment.objects.get(pk=pending.pk).status == "paid"
    owner.refresh_from_db()
    assert owner.credits == 700
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.PURCHASE).count() == 1
    assert fake_telegram.last("sendMessage")["text"] == "Payment received: +700 credits. Your balance: 700 credits."


@pytest.mark.django_db
def test_after_the_last_attempt_the_update_is_failed_for_staff(feed, updates, fake_telegram, owner_profile,
                                                               bot_settings):
    bot_settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID
    bot_settings.TELEGRAM_UPDATE_MAX_ATTEMPTS = 2
    fake_telegram.fail("sendMessage", error_code=400, description="Bad Request: chat not found", times=None)
    update = updates.command(owner_profile, "balance")

    feed(update)
    _due_now(update["update_id"])
    assert tasks.update_process(update["update_id"]) == "failed"

    stored = TelegramUpdate.objects.get(pk=update["update_id"])
    assert (stored.status, stored.attempts, stored.lease_until) == ("failed", 2, None)
    _due_now(stored.pk)
    assert updates_due() == []  # no more loops
    alerts = [task["kwargs"]["text"] for task in queued(ALERT_TASK)]
    assert any(f"Telegram update {stored.pk} failed 2 times" in text for text in alerts), alerts


@pytest.mark.django_db
def test_an_update_that_cannot_be_read_counts_as_a_failed_attempt(feed, bot_settings):
    feed({"update_id": 31337, "message": {"message_id": "not a number"}})

    stored = TelegramUpdate.objects.get(pk=31337)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error


@pytest.mark.django_db
def test_a_claim_whose_lease_ran_out_is_taken_over_and_the_slow_one_finishes_nothing(settings):
    settings.TELEGRAM_UPDATE_LEASE_SECONDS = 60
    update_store(payload={"update_id": 42})
    first = update_claim(update_id=42)
    assert first is not None and first.attempt == 1
    assert update_claim(update_id=42) is None  # held
    assert updates_due(now=timezone.now() + timedelta(seconds=30)) == []

    TelegramUpdate.objects.filter(pk=42).update(lease_until=timezone.now() - timedelta(seconds=1))  # it died
    assert updates_due() == [42]
    second = update_claim(update_id=42)
    assert second is not None and second.attempt == 2

    assert update_processed(update_id=42, attempt=first.attempt) is False
    assert update_failed(update_id=42, attempt=first.attempt, error="late") is None
    assert update_processed(update_id=42, attempt=second.attempt) is True
    assert TelegramUpdate.objects.get(pk=42).status == "processed"


@pytest.mark.django_db
def test_fresh_updates_are_the_bots_the_worker_takes_only_late_ones(settings):
    settings.TELEGRAM_UPDATE_RETRY_BASE_SECONDS = 30
    update_store(payload={"update_id": 1})
    assert updates_due() == []
    assert updates_due(now=timezone.now() + timedelta(seconds=31)) == [1]


@pytest.mark.django_db
def test_repeats_are_recognised_and_only_untouched_ones_processed_again():
    assert update_store(payload={"update_id": 5}).created
    again = update_store(payload={"update_id": 5})
    assert (again.created, again.waiting) == (False, True)  # stored, never taken on: process it
    update_claim(update_id=5)
    assert update_store(payload={"update_id": 5}).waiting is False


@pytest.mark.parametrize("payload", [[], {"message": {}}, {"update_id": "7"}, {"update_id": True},
                                     {"update_id": 2**63}])
def test_what_is_not_an_update_is_refused(payload):
    from telegram_bot.services import UpdateInvalid

    with pytest.raises(UpdateInvalid):
        update_store(payload=payload)


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_claims_exactly_one_wins():
    update_store(payload={"update_id": 77})

    claims = run_in_threads(10, lambda i: update_claim(update_id=77))

    assert [claim.attempt for claim in claims if claim is not None] == [1]
    assert not [claim for claim in claims if isinstance(claim, Exception)]


@pytest.mark.django_db
def test_the_sweep_hands_due_updates_to_the_worker_and_has_one_schedule(settings):
    for update_id in (1, 2):
        update_store(payload={"update_id": update_id})
    _due_now(1)

    assert tasks.updates_sweep() == {"enqueued": 1, "pruned": 0}
    assert [task["kwargs"] for task in queued(UPDATE_PROCESS)] == [{"update_id": 1}]
    # Made by post_migrate, exactly once, however often migrate runs.
    schedule = Schedule.objects.get(name=UPDATES_SWEEP_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (UPDATES_SWEEP, Schedule.MINUTES, 1)
