"""A broadcast's states: start (freeze the audience), pause, resume, cancel, and the
schedule that hands a broadcast whose worker died to another one.

Every change is a conditional UPDATE from the states it may leave, so two staff
members clicking at once, or a click racing the worker, change it once.
"""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.models import Schedule

from accounts.models import User
from core.scheduling import schedule_ensure
from core.task_names import BROADCAST_SEND, BROADCASTS_RESUME
from telegram_bot.broadcasts.errors import BroadcastInvalid, BroadcastRefused
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery
from telegram_bot.broadcasts.selectors import broadcast_audience
from telegram_bot.broadcasts.services.compose import broadcast_content_refusal
from telegram_bot.hooks import task_enqueue

logger = logging.getLogger(__name__)

SEND_TASK = BROADCAST_SEND
RESUME_TASK = BROADCASTS_RESUME
RESUME_SCHEDULE_NAME = "telegram_bot: resume broadcasts"

Status = Broadcast.Status


def broadcast_start(*, broadcast_id: int, staff: User) -> int:
    """draft -> sending: one pending delivery per user of the audience, made by one
    INSERT ... SELECT in the database (100,000 users never pass through this process),
    then the worker is told on commit. Returns the number of recipients.

    Raises BroadcastRefused (not a draft, or not previewed since the last edit) and
    BroadcastInvalid (content Telegram would refuse, an empty audience).
    """
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        if broadcast.status != Status.DRAFT:
            raise BroadcastRefused(_("Only a draft can be started."))
        if broadcast.previewed_at is None:
            raise BroadcastRefused(_("Send yourself the preview first: it shows the message as users will get it."))
        refusal = broadcast_content_refusal(broadcast)
        if refusal is not None:
            raise refusal
        recipients = _deliveries_create(broadcast)
        if recipients == 0:
            raise BroadcastInvalid(_("Nobody is in this audience."))
        now = timezone.now()
        Broadcast.objects.filter(pk=broadcast_id).update(
            status=Status.SENDING, recipients=recipients, started_at=now, started_by=staff, updated_at=now
        )
        transaction.on_commit(lambda: task_enqueue(SEND_TASK, broadcast_id=broadcast_id))
    logger.info("broadcast %s started by staff user %s: %s recipients", broadcast_id, staff.pk, recipients)
    return recipients


def _deliveries_create(broadcast: Broadcast) -> int:
    """INSERT INTO deliveries SELECT <the audience>: the audience's SQL comes from the
    ORM (every value a parameter); the unique (broadcast, user) pair makes a repeat add nothing."""
    audience = broadcast_audience(broadcast=broadcast).order_by("id").values_list(
        Value(broadcast.pk), "id", "telegram_id", Value(BroadcastDelivery.Status.PENDING)
    )
    select_sql, params = audience.query.sql_with_params()
    table = connection.ops.quote_name(BroadcastDelivery._meta.db_table)
    fields = [BroadcastDelivery._meta.get_field(name) for name in ("broadcast", "user", "chat_id", "status")]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields if isinstance(field, Field))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}, attempts, error) "  # noqa: S608 - names from the model's meta
            f"SELECT *, 0, '' FROM ({select_sql}) AS audience ON CONFLICT DO NOTHING",
            params,
        )
        inserted: int = cursor.rowcount
    return inserted


def broadcast_pause(*, broadcast_id: int, reason: str = "") -> bool:
    """sending -> paused: the worker stops claiming within a second; what it already
    claimed is still sent. False when it was not sending."""
    paused = Broadcast.objects.filter(pk=broadcast_id, status=Status.SENDING).update(
        status=Status.PAUSED, last_error=reason[:255], updated_at=timezone.now()
    )
    if paused:
        logger.info("broadcast %s paused%s", broadcast_id, f": {reason}" if reason else "")
    return bool(paused)


def broadcast_resume(*, broadcast_id: int) -> bool:
    """paused -> sending, and a worker is told. False when it was not paused."""
    with transaction.atomic():
        resumed = Broadcast.objects.filter(pk=broadcast_id, status=Status.PAUSED).update(
            status=Status.SENDING, last_error="", updated_at=timezone.now()
        )
        if resumed:
            transaction.on_commit(lambda: task_enqueue(SEND_TASK, broadcast_id=broadcast_id))
    return bool(resumed)


def broadcast_cancel(*, broadcast_id: int) -> bool:
    """draft, sending or paused -> cancelled: nothing more is sent (what is pending
    stays pending, as a record of who did not get it). False when already finished."""
    cancelled = Broadcast.objects.filter(
        pk=broadcast_id, status__in=[Status.DRAFT, Status.SENDING, Status.PAUSED]
    ).update(status=Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now())
    if cancelled:
        logger.info("broadcast %s cancelled", broadcast_id)
    return bool(cancelled)


def broadcasts_resume() -> int:
    """The resume schedule (every minute): a sending broadcast whose worker is gone
    (its lease ran out: a killed worker, a task the Redis broker lost) is handed to a
    worker again; the lease keeps a second worker off a live one. Returns how many."""
    now = timezone.now()
    orphaned = list(
        Broadcast.objects.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now), status=Status.SENDING)
        .values_list("pk", flat=True)
    )
    for broadcast_id in orphaned:
        task_enqueue(SEND_TASK, broadcast_id=broadcast_id)
    if orphaned:
        logger.info("broadcasts handed to a worker: %s", orphaned)
    return len(orphaned)


def resume_schedule_ensure(*, using: str = "default") -> Schedule:
    """Exactly one resume schedule (every minute), however often and wherever this runs."""
    return schedule_ensure(name=RESUME_SCHEDULE_NAME, func=RESUME_TASK, using=using,
                           schedule_type=Schedule.MINUTES, minutes=1)


def broadcast_lease_seconds() -> float:
    """How long a worker holds a broadcast: its task cannot outlive Q_TIMEOUT (the
    cluster kills it then), so a lease past that belongs to a dead worker."""
    return float(settings.Q_CLUSTER["timeout"]) + 5.0
