"""Reads behind the staff dashboard: aggregates over a chosen period, grouped by day.

Every query is bounded by the period on an indexed timestamp (generations and the
ledger by `created_at`, payments by `paid_at`/`refunded_at`, users by `created_at`),
so the page's cost follows the period, not the size of history. Days are UTC days.
"""

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Manager, Min, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry, User
from generations.models import AIModel, Generation
from payments.models import Payment, PaymentIssue, StarsReconciliation
from telegram_bot.models import TelegramUpdate

Status = Generation.Status

_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> "Period":
        today = today or timezone.now().astimezone(UTC).date()
        return cls(first=today - timedelta(days=days - 1), last=today)


def _by_day(queryset: QuerySet[_M] | Manager[_M], field_name: str, period: Period) -> QuerySet[Any]:
    """`queryset` within the period, each row annotated with its UTC `day`."""
    by_day: QuerySet[Any] = (
        queryset.filter(**{f"{field_name}__gte": period.start_at, f"{field_name}__lt": period.end_at})
        .order_by()
        .annotate(day=TruncDate(field_name, tzinfo=UTC))
    )
    return by_day


def generations_per_day(*, period: Period) -> dict[date, dict[str, int]]:
    """day -> {status: generations started that day now in that status}."""
    rows = _by_day(Generation.objects, "created_at", period).values("day", "status").annotate(n=Count("*"))
    result: dict[date, dict[str, int]] = {day: {} for day in period.days}
    for row in rows:
        result.setdefault(row["day"], {})[row["status"]] = row["n"]
    return result


@dataclass
class ModelStats:
    slug: str
    name: str
    kind: str
    started: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    active: int = 0
    median_seconds: float | None = None
    # Money: credits charged for the completed generations (the others were refunded),
    # what the provider reported it billed (failed generations may cost too), and of
    # how many generations it reported a cost at all.
    credits_earned: int = 0
    provider_cost_usd: Decimal = Decimal(0)
    costs_reported: int = 0

    @property
    def success_rate(self) -> float | None:
        """Completed out of those that ended on the service's side (cancels are the user's choice)."""
        ended = self.completed + self.failed
        return self.completed / ended if ended else None

    @property
    def revenue_usd(self) -> Decimal:
        """What the credits earned are worth (CREDIT_VALUE_USD a credit)."""
        return (self.credits_earned * settings.CREDIT_VALUE_USD).quantize(Decimal("0.01"))

    @property
    def margin_usd(self) -> Decimal | None:
        """Revenue less the provider's cost; None while the provider reported none."""
        if not self.costs_reported:
            return None
        return (self.revenue_usd - self.provider_cost_usd).quantize(Decimal("0.01"))

    @property
    def margin_rate(self) -> float | None:
        margin = self.margin_usd
        if margin is None or not self.revenue_usd:
            return None
        return float(margin / self.revenue_usd)


class _MedianSeconds(Aggregate):
    """PostgreSQL: the median of (finished_at - started_at) in seconds."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _seconds_between(start: str, end: str) -> Func:
    return Func(F(end) - F(start), template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())


def model_stats(*, period: Period) -> list[ModelStats]:
    """Per model, of the generations started in the period: outcomes, the median duration
    and the margin (credits earned against the provider's reported cost)."""
    completed = Q(status=Status.COMPLETED, started_at__isnull=False, finished_at__isnull=False)
    aggregates: dict[str, Aggregate] = {
        "started": Count("*"),
        "completed": Count("status", filter=Q(status=Status.COMPLETED)),
        "failed": Count("status", filter=Q(status=Status.FAILED)),
        "cancelled": Count("status", filter=Q(status=Status.CANCELLED)),
        "active": Count("status", filter=Q(status__in=Generation.ACTIVE_STATUSES)),
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["median"] = _MedianSeconds(_seconds_between("started_at", "finished_at"), filter=completed)
    rows = (
        Generation.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .order_by()
        .values("model_id")
        .annotate(**aggregates)
    )
    models = {model.pk: model for model in AIModel.objects.all()}
    result = []
    for row in rows:
        model = models[row["model_id"]]
        stats = ModelStats(
            slug=model.slug,
            name=model.name,
            kind=model.kind,
            started=row["started"],
            completed=row["completed"],
            failed=row["failed"],
            cancelled=row["cancelled"],
            active=row["active"],
            median_seconds=row.get("median"),
        )
        if not postgres:
            stats.median_seconds = _median_in_python(model.pk, period, completed)
        result.append(stats)
    _money_add(result, models, period)
    return sorted(result, key=lambda stats: (-stats.started, stats.slug))


def _money_add(stats: list[ModelStats], models: dict[int, AIModel], period: Period) -> None:
    """Credits earned and provider costs per model. A query of its own: the outcomes above
    read the covering index alone, these columns are in the table."""
    by_slug = {item.slug: item for item in stats}
    rows = (
        Generation.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .order_by()
        .values("model_id")
        .annotate(
            earned=Sum("credits_charged", filter=Q(status=Status.COMPLETED)),
            cost=Sum("provider_cost_usd"),
            reported=Count("provider_cost_usd"),
        )
    )
    for row in rows:
        item = by_slug.get(models[row["model_id"]].slug)
        if item is not None:
            item.credits_earned = row["earned"] or 0
            item.provider_cost_usd = row["cost"] or Decimal(0)
            item.costs_reported = row["reported"]


def _median_in_python(model_id: int, period: Period, completed: Q) -> float | None:
    """SQLite (a local run) has no percentile aggregate; its data is small."""
    pairs = Generation.objects.filter(
        completed, model_id=model_id, created_at__gte=period.start_at, created_at__lt=period.end_at
    ).values_list("started_at", "finished_at")
    seconds = [(end - start).total_seconds() for start, end in pairs if start is not None and end is not None]
    return statistics.median(seconds) if seconds else None


@dataclass
class CreditsDay:
    sold: int = 0  # bought with Stars, net of refunded purchases
    spent: int = 0  # charged for generations, net of their refunds
    granted: int = 0  # staff grants and signup bonuses


def credits_per_day(*, period: Period) -> dict[date, CreditsDay]:
    rows = _by_day(CreditLedgerEntry.objects, "created_at", period).values("day", "kind").annotate(total=Sum("amount"))
    result = {day: CreditsDay() for day in period.days}
    for row in rows:
        day, kind, total = row["day"], row["kind"], row["total"] or 0
        entry = result.setdefault(day, CreditsDay())
        if kind in (CreditKind.PURCHASE, CreditKind.PURCHASE_REFUND, CreditKind.PURCHASE_REFUND_UNDONE):
            entry.sold += total
        elif kind in (CreditKind.GENERATION_CHARGE, CreditKind.GENERATION_REFUND, CreditKind.GENERATION_STAFF_REFUND):
            entry.spent -= total
        else:
            entry.granted += total
    return result


@dataclass
class StarsDay:
    received: int = 0
    refunded: int = 0
    payments: int = 0
    # Telegram's affiliate program: the affiliates' share of the day's payments.
    affiliate: int = 0

    @property
    def net(self) -> int:
        return self.received - self.refunded - self.affiliate


def stars_per_day(*, period: Period) -> dict[date, StarsDay]:
    result = {day: StarsDay() for day in period.days}
    paid = (
        _by_day(Payment.objects.filter(status__in=Payment.PAID_STATUSES), "paid_at", period)
        .values("day")
        .annotate(stars=Sum("stars"), n=Count("*"), affiliate=Sum("affiliate_commission"))
    )
    for row in paid:
        day = result.setdefault(row["day"], StarsDay())
        day.received, day.payments, day.affiliate = row["stars"] or 0, row["n"], row["affiliate"] or 0
    refunded = (
        _by_day(Payment.objects.filter(status=Payment.Status.REFUNDED), "refunded_at", period)
        .values("day")
        .annotate(stars=Sum("stars"))
    )
    for row in refunded:
        result.setdefault(row["day"], StarsDay()).refunded = row["stars"] or 0
    return result


@dataclass
class UsersDay:
    new: int = 0
    referred: int = 0  # of the new users, those who came with a referral link
    conversions: int = 0  # referred users who paid for the first time that day


def users_per_day(*, period: Period) -> dict[date, UsersDay]:
    result = {day: UsersDay() for day in period.days}
    rows = (
        _by_day(User.objects.filter(telegram_id__isnull=False), "created_at", period)
        .values("day")
        .annotate(n=Count("*"), referred=Count("referred_by"))
    )
    for row in rows:
        day = result.setdefault(row["day"], UsersDay())
        day.new, day.referred = row["n"], row["referred"]
    # A referral converts on the referred user's first paid purchase. Only users who
    # paid during the period can have their first purchase in it, so the scan is
    # bounded by the period's payments, not by all of them.
    payers = (
        Payment.objects.filter(
            status__in=Payment.PAID_STATUSES, paid_at__gte=period.start_at, paid_at__lt=period.end_at,
            user__referred_by__isnull=False,
        )
        .order_by()
        .values("user_id")
    )
    firsts = (
        Payment.objects.filter(status__in=Payment.PAID_STATUSES, user_id__in=payers)
        .order_by()
        .values("user_id")
        .annotate(first=Min("paid_at"))
        .filter(first__gte=period.start_at, first__lt=period.end_at)
    )
    for row in firsts:
        result.setdefault(row["first"].astimezone(UTC).date(), UsersDay()).conversions += 1
    return result


@dataclass
class LiveGeneration:
    generation: Generation
    age: timedelta
    # "" while it is merely waiting its turn; else "overdue" (past its timeout: the
    # sweeper fails it), "unclaimed" (pending longer than the sweeper's re-enqueue
    # interval) or "stalled" (processing, its next step long overdue: a dead worker).
    problem: str


@dataclass
class LiveSummary:
    pending: int = 0
    processing: int = 0
    overdue: int = 0
    unclaimed: int = 0
    stalled: int = 0
    oldest: list[LiveGeneration] = field(default_factory=list)


def generations_live(*, now: datetime | None = None, limit: int = 20) -> LiveSummary:
    """Pending and processing generations, the oldest first, with what looks stuck.

    Only live rows are read (the partial indexes on live statuses), however large
    history is.
    """
    now = now or timezone.now()
    unclaimed_before = now - timedelta(seconds=settings.GENERATION_PENDING_REQUEUE_SECONDS)
    stalled_before = now - timedelta(seconds=settings.GENERATION_STALLED_AFTER_SECONDS)
    unclaimed = Q(status=Status.PENDING, created_at__lte=unclaimed_before, timeout_at__gt=now)
    stalled = Q(status=Status.PROCESSING, next_check_at__lte=stalled_before, timeout_at__gt=now)
    live = Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES)
    counts = live.order_by().aggregate(
        pending=Count("status", filter=Q(status=Status.PENDING)),
        processing=Count("status", filter=Q(status=Status.PROCESSING)),
        overdue=Count("status", filter=Q(timeout_at__lte=now)),
        unclaimed=Count("status", filter=unclaimed),
        stalled=Count("status", filter=stalled),
    )
    summary = LiveSummary(**counts)
    oldest = live.select_related("user", "model").order_by("created_at", "id")[:limit]
    for generation in oldest:
        if generation.timeout_at <= now:
            problem = "overdue"
        elif generation.status == Status.PENDING and generation.created_at <= unclaimed_before:
            problem = "unclaimed"
        elif (
            generation.status == Status.PROCESSING
            and generation.next_check_at is not None
            and generation.next_check_at <= stalled_before
        ):
            problem = "stalled"
        else:
            problem = ""
        summary.oldest.append(LiveGeneration(generation=generation, age=now - generation.created_at, problem=problem))
    return summary


@dataclass
class StarsHealth:
    """Whether every Star is accounted for, now: the last reconciliation with
    Telegram's transactions, and what waits for staff."""

    last_reconciliation: StarsReconciliation | None
    open_issues: int  # Stars received that matched nothing (PaymentIssue open)
    refunds_in_progress: int  # payments left `refunding`
    failed_updates: int  # Telegram updates whose handlers failed every attempt
    waiting_updates: int  # stored updates not processed yet (being retried)

    @property
    def discrepancies(self) -> int:
        return self.open_issues + self.refunds_in_progress + self.failed_updates


def stars_health() -> StarsHealth:
    Status = TelegramUpdate.Status
    updates = TelegramUpdate.objects.filter(status__in=[Status.PENDING, Status.PROCESSING, Status.FAILED]).aggregate(
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        waiting=Count("pk", filter=Q(status__in=[Status.PENDING, Status.PROCESSING])),
    )
    return StarsHealth(
        last_reconciliation=StarsReconciliation.objects.order_by("-id").first(),
        open_issues=PaymentIssue.objects.filter(status=PaymentIssue.Status.OPEN).count(),
        refunds_in_progress=Payment.objects.filter(status=Payment.Status.REFUNDING).count(),
        failed_updates=updates["failed"],
        waiting_updates=updates["waiting"],
    )
