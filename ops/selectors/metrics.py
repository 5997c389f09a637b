"""Reads behind the Prometheus metrics: aggregates of generations, the credit ledger
and payments over a time window, and the state of the queue right now.

Every event the counters count has a timestamp that is set once and never changes
(a generation's `created_at` and `finished_at`, a ledger entry's `created_at`, a
payment's `paid_at` and `refunded_at`), so a counter's value is the sum of its
windows, and `ops.metrics` adds windows up instead of recounting all history on
each scrape. Each window query is a range scan of an index on its timestamp.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, IntegerField, Min, Q, Sum, Value, When
from django.utils import timezone

from accounts.models import CreditLedgerEntry
from generations.models import AIModel, Generation
from payments.models import CreditPack, Payment

# Totals keyed by a tuple (what, labels...): ("started", model_id, kind) -> count.
Totals = dict[tuple[Any, ...], float]

# Upper bounds (seconds) of the generation duration histogram's buckets: images take
# seconds, videos minutes, and the timeout ends everything at 15 minutes by default.
DURATION_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800)
NO_BUCKET = -1
OVERFLOW_BUCKET = len(DURATION_BUCKETS)


def _window(field: str, since: datetime | None, until: datetime) -> Q:
    condition = Q(**{f"{field}__lte": until})
    if since is not None:
        condition &= Q(**{f"{field}__gt": since})
    return condition


def generation_totals_started(*, since: datetime | None, until: datetime) -> Totals:
    rows = (
        Generation.objects.filter(_window("created_at", since, until))
        .order_by()
        .values("model_id", "kind")
        .annotate(n=Count("*"))
    )
    return {("started", row["model_id"], row["kind"]): row["n"] for row in rows}


def generation_totals_finished(*, since: datetime | None, until: datetime) -> Totals:
    """Ends by status, failures by error code, and the duration histogram of completed ones."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    bucket = Case(
        When(~Q(status=Generation.Status.COMPLETED) | Q(started_at__isnull=True), then=Value(NO_BUCKET)),
        *[When(duration__lte=timedelta(seconds=le), then=Value(i)) for i, le in enumerate(DURATION_BUCKETS)],
        default=Value(OVERFLOW_BUCKET),
        output_field=IntegerField(),
    )
    rows = (
        Generation.objects.filter(_window("finished_at", since, until))
        .order_by()
        .annotate(duration=duration, bucket=bucket)
        .values("model_id", "kind", "status", "error_code", "bucket")
        .annotate(n=Count("*"), total=Sum("duration"))
    )
    totals: Totals = {}
    for row in rows:
        model, kind, n = row["model_id"], row["kind"], row["n"]
        _add(totals, ("finished", model, kind, row["status"]), n)
        if row["status"] == Generation.Status.FAILED:
            _add(totals, ("error", model, kind, row["error_code"] or "UNKNOWN"), n)
        if row["bucket"] != NO_BUCKET:
            _add(totals, ("duration_bucket", model, kind, row["bucket"]), n)
            _add(totals, ("duration_count", model, kind), n)
            _add(totals, ("duration_sum", model, kind), (row["total"] or timedelta()).total_seconds())
    return totals


def ledger_totals(*, since: datetime | None, until: datetime) -> Totals:
    rows = (
        CreditLedgerEntry.objects.filter(_window("created_at", since, until))
        .order_by()
        .values("kind")
        .annotate(credited=Sum("amount", filter=Q(amount__gt=0)), debited=Sum("amount", filter=Q(amount__lt=0)))
    )
    totals: Totals = {}
    for row in rows:
        if row["credited"]:
            totals[("credited", row["kind"])] = row["credited"]
        if row["debited"]:
            totals[("debited", row["kind"])] = -row["debited"]
    return totals


def payment_totals(*, since: datetime | None, until: datetime) -> Totals:
    totals: Totals = {}
    paid = (
        Payment.objects.filter(_window("paid_at", since, until), status__in=Payment.PAID_STATUSES)
        .order_by()
        .values("pack_id")
        .annotate(n=Count("*"), stars=Sum("stars"))
    )
    for row in paid:
        totals[("payments_paid", row["pack_id"])] = row["n"]
        totals[("stars_received", row["pack_id"])] = row["stars"]
    refunded = (
        Payment.objects.filter(_window("refunded_at", since, until), status=Payment.Status.REFUNDED)
        .order_by()
        .values("pack_id")
        .annotate(n=Count("*"), stars=Sum("stars"))
    )
    for row in refunded:
        totals[("payments_refunded", row["pack_id"])] = row["n"]
        totals[("stars_refunded", row["pack_id"])] = row["stars"]
    return totals


def generation_live_counts() -> dict[tuple[int, str, str], int]:
    """(model_id, kind, status) -> pending or processing generations now (the live rows' partial index)."""
    rows = (
        Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES)
        .order_by()
        .values("model_id", "kind", "status")
        .annotate(n=Count("*"))
    )
    return {(row["model_id"], row["kind"], row["status"]): row["n"] for row in rows}


def generation_oldest_pending_age(*, now: datetime | None = None) -> float:
    """Seconds since the oldest pending generation was created; 0 when none waits."""
    oldest: datetime | None = (
        Generation.objects.filter(status=Generation.Status.PENDING).order_by().aggregate(oldest=Min("created_at"))
    )["oldest"]
    if oldest is None:
        return 0.0
    return max(0.0, ((now or timezone.now()) - oldest).total_seconds())


def queue_depth() -> tuple[str, int]:
    """(broker name, tasks waiting in the Django-Q2 queue)."""
    from django_q.brokers import get_broker
    from django_q.brokers.orm import ORM

    broker = get_broker()
    # The ORM queue's broker is core.broker.OrmBroker, a subclass of Django-Q2's: still "orm".
    name = "orm" if isinstance(broker, ORM) else type(broker).__name__.lower()
    return name, int(broker.queue_size() or 0)


def model_slugs() -> dict[int, str]:
    return dict(AIModel.objects.values_list("id", "slug"))


def pack_slugs() -> dict[int, str]:
    return dict(CreditPack.objects.values_list("id", "slug"))


def _add(totals: Totals, key: tuple[Any, ...], value: float) -> None:
    totals[key] = totals.get(key, 0) + value
