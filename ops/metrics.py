"""Prometheus metrics of NanoGen, in the text exposition format.

Two sources, because NanoGen runs as several gunicorn workers and several qcluster
processes on several machines:

- Business metrics (generations, credits, Stars, the queue) come from the database
  at scrape time, through `DatabaseCollector`. Whatever process or machine did the
  work, the database saw it, so any web worker answers the same numbers, and no
  process has to stay alive to keep a counter.
- HTTP request latency is measured where it happens, in each web process
  (`ops.middleware`). With PROMETHEUS_MULTIPROC_DIR set (gunicorn), every worker
  writes its samples to files there and a scrape adds them up; without it a
  scrape sees the answering process only (fine for a single-process server).

Counters from the database stay cheap on a large history: a process counts
everything up to a settled point once, then adds each scrape's new window (range
scans on indexed timestamps). See `RunningTotals`.
"""

import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.selectors import metrics as selectors
from ops.selectors.metrics import DURATION_BUCKETS, OVERFLOW_BUCKET, Totals

logger = logging.getLogger(__name__)

# Rows whose timestamp is older than this are taken as final: the transaction that
# wrote them has committed. (Timestamps are taken in Python just before the write
# and the transactions around them last milliseconds; two minutes is ample.) Newer
# rows are counted afresh on every scrape, so counters are current, not two minutes late.
SETTLE = timedelta(minutes=2)
# A scrape that cannot finish in time fails instead of piling up on the database.
SCRAPE_STATEMENT_TIMEOUT_MS = 5000
# Checkpoints of the running totals in the cache; the version changes whenever what a
# checkpoint holds changes, so a deploy never adds up old and new kinds of totals.
CACHE_PREFIX = "ops:metrics:v1:"
CHECKPOINT_CACHE_SECONDS = 7 * 86400


class RunningTotals:
    """Totals of timestamped events over all history, kept up to date cheaply.

    `fetch(since, until)` returns the totals of the events in (since, until]. The
    totals up to a settled point (`now - SETTLE`) are a checkpoint: the first scrape
    ever counts all history once, every later scrape adds only the settled part of
    what happened since, and the unsettled last minutes are counted afresh on top
    each time, without being kept.

    The checkpoint is kept in this process and in the cache (Redis in production),
    so a new gunicorn worker, or one on another machine, picks it up instead of
    counting all history again. A checkpoint depends only on the database and its
    settled point, so processes that share or race on it all answer the same numbers.
    """

    def __init__(self, name: str, fetch: Callable[..., Totals]) -> None:
        self._fetch = fetch
        self._cache_key = f"{CACHE_PREFIX}{name}"
        self._lock = threading.Lock()
        self._settled_until: datetime | None = None
        self._settled: Totals = {}

    def at(self, now: datetime) -> Totals:
        with self._lock:
            if self._settled_until is None:
                self._adopt_cached()
            settle_point = now - SETTLE
            if self._settled_until is None or settle_point > self._settled_until:
                for key, value in self._fetch(since=self._settled_until, until=settle_point).items():
                    self._settled[key] = self._settled.get(key, 0) + value
                self._settled_until = settle_point
                self._save_cached()
            totals = dict(self._settled)
            for key, value in self._fetch(since=self._settled_until, until=now).items():
                totals[key] = totals.get(key, 0) + value
            return totals

    def reset(self) -> None:
        with self._lock:
            self._settled_until = None
            self._settled = {}
            cache.delete(self._cache_key)

    def _adopt_cached(self) -> None:
        try:
            cached = cache.get(self._cache_key)
        except Exception:  # the cache is an optimisation: without it, count from the database
            logger.warning("metrics: cannot read the checkpoint %s from the cache", self._cache_key, exc_info=True)
            return
        if cached is not None:
            self._settled_until, self._settled = cached[0], dict(cached[1])

    def _save_cached(self) -> None:
        try:
            cache.set(self._cache_key, (self._settled_until, self._settled), timeout=CHECKPOINT_CACHE_SECONDS)
        except Exception:  # the cache is an optimisation: the scrape goes on
            logger.warning("metrics: cannot save the checkpoint %s to the cache", self._cache_key, exc_info=True)


_running_totals = [
    RunningTotals("generations_started", selectors.generation_totals_started),
    RunningTotals("generations_finished", selectors.generation_totals_finished),
    RunningTotals("ledger", selectors.ledger_totals),
    RunningTotals("payments", selectors.payment_totals),
]


def running_totals_reset() -> None:
    """Forget the checkpoints (tests rebuild the database under them)."""
    for totals in _running_totals:
        totals.reset()


class DatabaseCollector(Collector):
    """Business metrics read from the database at scrape time."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self._now = now

    def collect(self) -> Iterator[Metric]:
        now = self._now or timezone.now()
        totals: Totals = {}
        for running in _running_totals:
            totals.update(running.at(now))
        models = selectors.model_slugs()
        packs = selectors.pack_slugs()

        def model(model_id: int) -> str:
            return models.get(model_id, str(model_id))

        def pack(pack_id: int) -> str:
            return packs.get(pack_id, str(pack_id))

        started = CounterMetricFamily(
            "nanogen_generations_started", "Generations started (credits debited).", labels=["model", "kind"]
        )
        finished = CounterMetricFamily(
            "nanogen_generations_finished",
            "Generations that ended, by final status (completed, failed, cancelled).",
            labels=["model", "kind", "status"],
        )
        errors = CounterMetricFamily(
            "nanogen_generation_errors",
            "Failed generations by error class (the generation's error code).",
            labels=["model", "kind", "error_code"],
        )
        credited = CounterMetricFamily(
            "nanogen_credits_credited", "Credits added to balances, by ledger kind.", labels=["kind"]
        )
        debited = CounterMetricFamily(
            "nanogen_credits_debited", "Credits taken from balances, by ledger kind.", labels=["kind"]
        )
        payments_paid = CounterMetricFamily("nanogen_payments_paid", "Credit packs paid for.", labels=["pack"])
        stars_received = CounterMetricFamily(
            "nanogen_stars_received", "Telegram Stars received for credit packs.", labels=["pack"]
        )
        payments_refunded = CounterMetricFamily(
            "nanogen_payments_refunded", "Paid credit packs refunded by staff.", labels=["pack"]
        )
        stars_refunded = CounterMetricFamily(
            "nanogen_stars_refunded", "Telegram Stars refunded to buyers.", labels=["pack"]
        )
        durations: dict[tuple[int, str], dict[str, Any]] = {}

        for key, value in sorted(totals.items(), key=lambda item: str(item[0])):
            what, *labels = key
            if what == "started":
                started.add_metric([model(labels[0]), labels[1]], value)
            elif what == "finished":
                finished.add_metric([model(labels[0]), labels[1], labels[2]], value)
            elif what == "error":
                errors.add_metric([model(labels[0]), labels[1], labels[2]], value)
            elif what == "credited":
                credited.add_metric([labels[0]], value)
            elif what == "debited":
                debited.add_metric([labels[0]], value)
            elif what == "payments_paid":
                payments_paid.add_metric([pack(labels[0])], value)
            elif what == "stars_received":
                stars_received.add_metric([pack(labels[0])], value)
            elif what == "payments_refunded":
                payments_refunded.add_metric([pack(labels[0])], value)
            elif what == "stars_refunded":
                stars_refunded.add_metric([pack(labels[0])], value)
            elif what.startswith("duration_"):
                series = durations.setdefault((labels[0], labels[1]), {"buckets": {}, "count": 0, "sum": 0.0})
                if what == "duration_bucket":
                    series["buckets"][labels[2]] = value
                elif what == "duration_count":
                    series["count"] = value
                else:
                    series["sum"] = value
        yield from (started, finished, errors, credited, debited)
        yield from (payments_paid, stars_received, payments_refunded, stars_refunded)

        histogram = HistogramMetricFamily(
            "nanogen_generation_duration_seconds",
            "Time from a worker's claim to completion, of completed generations.",
            labels=["model", "kind"],
        )
        for (model_id, kind), series in sorted(durations.items(), key=lambda item: (model(item[0][0]), item[0][1])):
            cumulative, buckets = 0, []
            for index, le in enumerate(DURATION_BUCKETS):
                cumulative += series["buckets"].get(index, 0)
                buckets.append((_le(le), cumulative))
            buckets.append(("+Inf", cumulative + series["buckets"].get(OVERFLOW_BUCKET, 0)))
            histogram.add_metric([model(model_id), kind], buckets, sum_value=series["sum"])
        yield histogram

        live = GaugeMetricFamily(
            "nanogen_generations_active", "Generations pending or processing now.", labels=["model", "kind", "status"]
        )
        for (model_id, kind, status), count in sorted(selectors.generation_live_counts().items(), key=str):
            live.add_metric([model(model_id), kind, status], count)
        yield live
        yield GaugeMetricFamily(
            "nanogen_generation_oldest_pending_age_seconds",
            "Age of the oldest generation no worker has claimed yet (0 when none waits).",
            value=selectors.generation_oldest_pending_age(now=now),
        )
        broker, depth = selectors.queue_depth()
        queue = GaugeMetricFamily("nanogen_queue_depth", "Tasks waiting in the Django-Q2 queue.", labels=["broker"])
        queue.add_metric([broker], depth)
        yield queue


def _le(bound: float) -> str:
    return str(float(bound))


def database_metrics_text(*, now: datetime | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(now=now))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(SCRAPE_STATEMENT_TIMEOUT_MS)}")
        return generate_latest(registry)


def process_metrics_text() -> bytes:
    """The HTTP metrics: of every web worker (multiprocess mode) or of this process."""
    from ops.middleware import HTTP_REGISTRY

    if _multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(HTTP_REGISTRY)


def metrics_text() -> bytes:
    return process_metrics_text() + database_metrics_text()


def _multiprocess_dir() -> str:
    # prometheus-client itself reads this variable (when it is imported) to decide
    # where the metrics of this process live.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
