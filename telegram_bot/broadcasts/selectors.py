"""Reads of broadcasts: who is in an audience, and how far a broadcast got."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from generations.models import Generation
from payments.models import Payment
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery


def _speaks(language: str) -> Q:
    """Users who get the bot's texts in `language` (see core.i18n.user_language):
    Russian for ru and ru-*, English for everything else."""
    russian = Q(language_code__iexact="ru") | Q(language_code__istartswith="ru-")
    return russian if language == "ru" else ~russian


def broadcast_audience(*, broadcast: Broadcast, now: datetime | None = None) -> QuerySet[User]:
    """The users a broadcast would go to now: Telegram users the bot can write to
    (not blocked, not banned), narrowed by the broadcast's audience and language.

    "Active in the last N days": joined, started a generation or made a payment in
    that time.
    """
    users = User.objects.filter(telegram_id__isnull=False, is_reachable=True, is_banned=False, is_active=True)
    if broadcast.language:
        users = users.filter(_speaks(broadcast.language))
    paid = Payment.objects.filter(user=OuterRef("pk"), status__in=Payment.PAID_STATUSES)
    if broadcast.audience == Broadcast.Audience.PAID:
        users = users.filter(Exists(paid))
    elif broadcast.audience == Broadcast.Audience.NEVER_PAID:
        users = users.exclude(Exists(paid))
    elif broadcast.audience == Broadcast.Audience.ACTIVE:
        since = (now or timezone.now()) - timedelta(days=broadcast.active_days or 0)
        users = users.filter(
            Q(created_at__gte=since)
            | Exists(Generation.objects.filter(user=OuterRef("pk"), created_at__gte=since))
            | Exists(Payment.objects.filter(user=OuterRef("pk"), created_at__gte=since))
        )
    return users


def broadcast_audience_count(*, broadcast: Broadcast) -> int:
    return broadcast_audience(broadcast=broadcast).count()


@dataclass(frozen=True)
class BroadcastProgress:
    recipients: int
    sent: int
    failed: int
    blocked: int
    # Not sent yet: waiting, or being sent right now (`sending`).
    left: int
    sending: int


def broadcast_progress(*, broadcast_id: int) -> BroadcastProgress:
    """Counts of the deliveries by state (one index-only scan of the broadcast's rows)."""
    counts = dict(
        BroadcastDelivery.objects.filter(broadcast_id=broadcast_id).order_by().values_list("status")
        .annotate(n=Count("id"))
    )
    Status = BroadcastDelivery.Status
    pending, sending = counts.get(Status.PENDING, 0), counts.get(Status.SENDING, 0)
    return BroadcastProgress(
        recipients=sum(counts.values()),
        sent=counts.get(Status.SENT, 0),
        failed=counts.get(Status.FAILED, 0),
        blocked=counts.get(Status.BLOCKED, 0),
        left=pending + sending,
        sending=sending,
    )
