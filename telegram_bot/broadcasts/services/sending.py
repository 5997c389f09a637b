"""Sending a broadcast: the worker's loop, at most once per recipient, within Telegram's rate.

One task run (`broadcast_run`) holds the broadcast's lease and, for as long as a task
may run (`broadcast_run_seconds`), repeats: take tokens from the shared bucket (one per free sending
thread), claim that many pending deliveries in id order after the last one claimed
(keyset: a conditional UPDATE pending -> sending that also checks that the
broadcast is still sending), and send them from a small thread pool
(BROADCAST_SEND_CONCURRENCY calls to Telegram in flight, each waits on the network).
The claim comes BEFORE the send: a worker killed in between leaves the delivery
`sending`, which is never sent again. Memory stays flat: a run holds at most a
pool's worth of deliveries, whatever the size of the audience. Then it gives the
lease back and enqueues the next run, or completes the broadcast.

Telegram's answers:
- ok: sent;
- 403 (blocked the bot, deactivated): blocked, and the user is marked unreachable;
- 429: not sent; the delivery goes back to pending and the whole bucket closes for
  `retry_after`, for every worker;
- a Bot API error answer 5xx, or a connection never made: not sent either; back to
  pending after a short pause, failed after BROADCAST_SEND_MAX_ATTEMPTS such tries;
- 401/404 (the bot's token no longer works): the broadcast is paused with the reason;
- an answer lost on the way (a read timeout, a dropped connection, a proxy's page):
  failed, never retried, since Telegram may have delivered it;
- anything else (400: chat not found...): failed.
"""

import enum
import logging
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import user_set_reachable
from core.telegram_api import TelegramApiError, bot_api_call
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery
from telegram_bot.broadcasts.services.compose import BroadcastMessage, broadcast_message
from telegram_bot.broadcasts.services.lifecycle import SEND_TASK, broadcast_lease_seconds, broadcast_pause
from telegram_bot.broadcasts.services.throttle import send_bucket_pause, send_tokens_take
from telegram_bot.hooks import task_enqueue

logger = logging.getLogger(__name__)

Delivery = BroadcastDelivery.Status
# How often a run looks whether staff paused or cancelled the broadcast.
STATUS_CHECK_SECONDS = 1.0
# The pause after a transient failure that did not reach Telegram (an outage).
TRANSIENT_PAUSE_SECONDS = 5.0


class RunOutcome(enum.StrEnum):
    NOT_MINE = "not_mine"  # another worker holds the lease, or it is not sending
    CONTINUED = "continued"  # the run's time is up; the next run is enqueued
    STOPPED = "stopped"  # paused or cancelled meanwhile
    WAITING = "waiting"  # nothing to claim, but deliveries of a dead worker are not stale yet
    COMPLETED = "completed"


@dataclass(frozen=True)
class _Claimed:
    id: int
    user_id: int
    chat_id: int


@dataclass(frozen=True)
class _Answer:
    """What one send came to, decided in the sending thread, recorded by the run's own."""

    status: str  # a Delivery status: SENT, BLOCKED, FAILED, or PENDING (hand back)
    message_id: int | None = None
    error: str = ""
    retry_after: float | None = None
    bot_broken: bool = False


def broadcast_run(*, broadcast_id: int) -> RunOutcome:
    """One run of the sending task (see the module docstring)."""
    token = _lease_take(broadcast_id)
    if token is None:
        return RunOutcome.NOT_MINE
    try:
        broadcast = Broadcast.objects.get(pk=broadcast_id)
        message = broadcast_message(broadcast)
        exhausted = _send_until(broadcast_id, message, deadline=time.monotonic() + broadcast_run_seconds())
    finally:
        _lease_release(broadcast_id, token)
    if exhausted:
        return _complete_if_done(broadcast_id)
    if Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).exists():
        task_enqueue(SEND_TASK, broadcast_id=broadcast_id)
        return RunOutcome.CONTINUED
    return RunOutcome.STOPPED


def broadcast_run_seconds() -> float:
    """How long one run claims: the cluster kills a task after Q_TIMEOUT, and the sends in
    flight at the end may each take a connect and a read timeout (TELEGRAM_API_TIMEOUT)."""
    timeout = float(settings.Q_CLUSTER["timeout"])
    api_timeout = float(settings.TELEGRAM_API_TIMEOUT)
    return max(timeout / 4, timeout - 2 * api_timeout - 5)


def _lease_take(broadcast_id: int) -> str | None:
    """The broadcast for this run alone, or None while another live run holds it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = Broadcast.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=broadcast_id, status=Broadcast.Status.SENDING
    ).update(lease_until=now + timedelta(seconds=broadcast_lease_seconds()), lease_token=token)
    return token if taken else None


def _lease_release(broadcast_id: int, token: str) -> None:
    Broadcast.objects.filter(pk=broadcast_id, lease_token=token).update(lease_until=None, lease_token="")


def _send_until(broadcast_id: int, message: BroadcastMessage, *, deadline: float) -> bool:
    """Claim and send until the deadline or a pause; True when nothing was left to claim."""
    concurrency = max(1, settings.BROADCAST_SEND_CONCURRENCY)
    after_id = 0
    in_flight: dict[Future[_Answer], _Claimed] = {}
    next_status_check = 0.0
    exhausted = False
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"broadcast-{broadcast_id}") as pool:
        while True:
            for future in [f for f in in_flight if f.done()]:
                after_id = _record(broadcast_id, in_flight.pop(future), future.result(), after_id)
            now = time.monotonic()
            if now >= deadline:
                break
            if now >= next_status_check:
                if not Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).exists():
                    break
                next_status_check = now + STATUS_CHECK_SECONDS
            free = concurrency - len(in_flight)
            if free == 0:
                wait(in_flight, timeout=deadline - now, return_when=FIRST_COMPLETED)
                continue
            tokens = send_tokens_take(wanted=free)
            if not tokens.granted:
                pause = min(tokens.wait_seconds, max(deadline - time.monotonic(), 0))
                if in_flight:
                    wait(in_flight, timeout=pause, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(pause)
                continue
            claimed = _claim(broadcast_id, after_id=after_id, limit=tokens.granted)
            if not claimed:
                if not in_flight:
                    exhausted = True
                    break
                # A delivery in flight may yet come back to pending (429): wait for them.
                wait(in_flight, timeout=deadline - now, return_when=FIRST_COMPLETED)
                continue
            after_id = claimed[-1].id
            for delivery in claimed:
                in_flight[pool.submit(_deliver, message, delivery.chat_id)] = delivery
        for future, delivery in list(in_flight.items()):
            _record(broadcast_id, delivery, future.result(), after_id)
    return exhausted


def _claim(broadcast_id: int, *, after_id: int, limit: int) -> list[_Claimed]:
    """pending -> sending for the next `limit` deliveries after `after_id`, in one
    statement that sees only a broadcast still sending (a pause or a cancel committed
    before it stops it). RETURNING says which rows this statement claimed.

    The rows are picked in a CTE that is computed once (MATERIALIZED): as an
    `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` the planner may run the subquery
    again for each row it updates, and claim far more than `limit`.
    """
    table = connection.ops.quote_name(BroadcastDelivery._meta.db_table)
    broadcasts = connection.ops.quote_name(Broadcast._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    materialized = "MATERIALIZED " if postgresql else ""
    skip_locked = " FOR UPDATE SKIP LOCKED" if postgresql else ""
    with connection.cursor() as cursor:
        # Only names from the models' meta go into the string; every value is a parameter.
        cursor.execute(
            f"WITH next AS {materialized}(SELECT d.id FROM {table} d "  # noqa: S608
            f"WHERE d.broadcast_id = %s AND d.status = %s AND d.id > %s "
            f"AND EXISTS (SELECT 1 FROM {broadcasts} b WHERE b.id = %s AND b.status = %s) "
            f"ORDER BY d.id LIMIT %s{skip_locked}) "
            f"UPDATE {table} SET status = %s, claimed_at = %s "
            f"WHERE id IN (SELECT id FROM next) AND status = %s "
            f"RETURNING id, user_id, chat_id",
            [broadcast_id, Delivery.PENDING, after_id, broadcast_id, Broadcast.Status.SENDING, limit,
             Delivery.SENDING, timezone.now(), Delivery.PENDING],
        )
        rows = cursor.fetchall()
    return sorted((_Claimed(id=row[0], user_id=row[1], chat_id=row[2]) for row in rows), key=lambda d: d.id)


def _deliver(message: BroadcastMessage, chat_id: int) -> _Answer:
    """One send, in a pool thread: HTTP only, no database."""
    try:
        result = bot_api_call(message.method, {**message.payload, "chat_id": chat_id})
    except TelegramApiError as exc:
        return _answer_for(exc)
    except Exception as exc:
        logger.exception("broadcast send to %s failed", chat_id)
        return _Answer(status=Delivery.FAILED, error=f"{type(exc).__name__}")
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return _Answer(status=Delivery.SENT, message_id=message_id if isinstance(message_id, int) else None)


def _answer_for(exc: TelegramApiError) -> _Answer:
    error = f"{exc.error_code or 'network'}: {exc.description}"[:255]
    if exc.error_code == 403:
        return _Answer(status=Delivery.BLOCKED, error=error)
    if exc.error_code == 429:
        return _Answer(status=Delivery.PENDING, error=error, retry_after=float(exc.retry_after or 1))
    if exc.error_code in (401, 404):
        return _Answer(status=Delivery.PENDING, error=error, bot_broken=True)
    if exc.maybe_processed:
        return _Answer(status=Delivery.FAILED, error=f"unknown whether delivered ({error})"[:255])
    if exc.is_transient:
        return _Answer(status=Delivery.PENDING, error=error)
    return _Answer(status=Delivery.FAILED, error=error)


def _record(broadcast_id: int, delivery: _Claimed, answer: _Answer, after_id: int) -> int:
    """Write what the send came to; returns the keyset position to go on from (moved
    back before a delivery handed back to pending, so this run claims it again)."""
    now = timezone.now()
    claimed = BroadcastDelivery.objects.filter(pk=delivery.id, status=Delivery.SENDING)
    if answer.status != Delivery.PENDING:
        claimed.update(status=answer.status, finished_at=now, telegram_message_id=answer.message_id,
                       error=answer.error)
        if answer.status == Delivery.BLOCKED:
            user_set_reachable(user_id=delivery.user_id, reachable=False)
        return after_id
    if answer.bot_broken:
        claimed.update(status=Delivery.PENDING, claimed_at=None, error=answer.error)
        broadcast_pause(broadcast_id=broadcast_id, reason=f"Telegram refused the bot: {answer.error}")
        return min(after_id, delivery.id - 1)
    if answer.retry_after is not None:
        send_bucket_pause(seconds=answer.retry_after)
        claimed.update(status=Delivery.PENDING, claimed_at=None, error=answer.error)
        return min(after_id, delivery.id - 1)
    # A failure that never reached Telegram: try again after a pause, a few times.
    with transaction.atomic():
        tries = (BroadcastDelivery.objects.filter(pk=delivery.id).values_list("attempts", flat=True).first() or 0) + 1
        if tries >= settings.BROADCAST_SEND_MAX_ATTEMPTS:
            claimed.update(status=Delivery.FAILED, finished_at=now, attempts=tries, error=answer.error)
            return after_id
        claimed.update(status=Delivery.PENDING, claimed_at=None, attempts=tries, error=answer.error)
    send_bucket_pause(seconds=TRANSIENT_PAUSE_SECONDS)
    return min(after_id, delivery.id - 1)


def _complete_if_done(broadcast_id: int) -> RunOutcome:
    """Nothing left to claim: deliveries a dead worker left `sending` longer than any
    live one could take are failed (never resent), and with none in flight the
    broadcast is completed."""
    now = timezone.now()
    stale = now - timedelta(seconds=broadcast_lease_seconds())
    interrupted = BroadcastDelivery.objects.filter(
        broadcast_id=broadcast_id, status=Delivery.SENDING, claimed_at__lt=stale
    ).update(status=Delivery.FAILED, finished_at=now,
             error="interrupted: the worker stopped while sending; not resent, it may have arrived")
    if interrupted:
        logger.warning("broadcast %s: %s deliveries interrupted by a worker's death", broadcast_id, interrupted)
    if BroadcastDelivery.objects.filter(broadcast_id=broadcast_id, status__in=[Delivery.PENDING, Delivery.SENDING]
                                        ).exists():
        return RunOutcome.WAITING
    completed = Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).update(
        status=Broadcast.Status.COMPLETED, finished_at=now, updated_at=now
    )
    if completed:
        logger.info("broadcast %s completed", broadcast_id)
        return RunOutcome.COMPLETED
    return RunOutcome.STOPPED
