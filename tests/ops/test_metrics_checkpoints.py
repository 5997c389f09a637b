"""Scrapes stay cheap on a large history: all history is counted once, then only new
windows; a new process picks the checkpoint up from the cache."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from ops.metrics import SETTLE, DatabaseCollector, RunningTotals, database_metrics_text
from tests.helpers import credits_give
from tests.ops.helpers import generation_move_back, generation_new

pytestmark = pytest.mark.django_db


class RecordingFetch:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, *, since, until):
        self.calls.append((since, until))
        return {("events",): 1}


def test_all_history_is_counted_once_then_only_new_windows():
    fetch = RecordingFetch()
    totals = RunningTotals("test-once", fetch)
    now = timezone.now()
    totals.at(now)
    assert fetch.calls == [(None, now - SETTLE), (now - SETTLE, now)]
    later = now + timedelta(seconds=15)
    totals.at(later)
    assert fetch.calls[2:] == [(now - SETTLE, later - SETTLE), (later - SETTLE, later)]


def test_a_new_process_continues_from_the_cached_checkpoint():
    now = timezone.now()
    RunningTotals("test-shared", RecordingFetch()).at(now)
    fetch = RecordingFetch()
    RunningTotals("test-shared", fetch).at(now + timedelta(seconds=30))
    assert fetch.calls[0][0] == now - SETTLE, "the new process did not count all history again"


def test_without_the_cache_the_totals_are_still_right(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    fetch = RecordingFetch()
    totals = RunningTotals("test-broken-cache", fetch)
    now = timezone.now()
    assert totals.at(now) == {("events",): 2}
    assert totals.at(now + timedelta(seconds=15)) == {("events",): 3}


def test_settled_and_fresh_windows_add_up_to_all_history(owner, image_model, settings):
    """Whichever process and checkpoint answers, the totals equal a full recount."""
    settings.GENERATION_RATE_LIMIT_PER_MINUTE = 100
    settings.GENERATION_MAX_ACTIVE = 100
    credits_give(owner, 1000)
    for minutes in (90, 30, 3, 1, 0):
        generation = generation_new(owner, image_model)
        generation_move_back(generation, timedelta(minutes=minutes))
    now = timezone.now()
    steps = [now - timedelta(minutes=m) for m in (60, 20, 2, 1)] + [now]
    incremental = RunningTotals("test-sum", _started)
    for step in steps:
        result = incremental.at(step)
    assert result == {("started", image_model.pk, "image"): 5}
    assert RunningTotals("test-sum-fresh", _started).at(now) == result


def _started(*, since, until):
    from ops.selectors.metrics import generation_totals_started

    return generation_totals_started(since=since, until=until)


def test_a_steady_scrape_runs_a_bounded_number_of_queries(django_assert_max_num_queries, owner, image_model):
    credits_give(owner, 100)
    generation_new(owner, image_model)
    database_metrics_text()
    # Per group of totals one query for the new settled window and one for the fresh
    # minutes (payments: two each), the catalog, live counts, the oldest pending,
    # the queue, the statement timeout, and the (test-only) savepoint and its release.
    with django_assert_max_num_queries(18):
        database_metrics_text()


def test_the_collector_reads_at_the_given_time(owner, image_model):
    credits_give(owner, 100)
    generation = generation_new(owner, image_model)
    before = list(DatabaseCollector(now=generation.created_at - timedelta(seconds=1)).collect())
    started = next(family for family in before if family.name == "nanogen_generations_started")
    assert started.samples == []
