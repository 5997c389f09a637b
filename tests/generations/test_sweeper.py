"""The sweeper: timeouts failed and refunded exactly once (even by concurrent sweepers),
lost pending work re-enqueued, stalled work resumed, old task results deleted, and
exactly one sweeper schedule however often it is registered."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage

from accounts.models import CreditKind, CreditLedgerEntry
from core.task_names import GENERATION_SWEEP
from generations.failures import FailureCode
from generations.models import AIModel, Generation
from generations.services.sweeper import SWEEP_SCHEDULE_NAME, generations_sweep, sweep_schedule_ensure
from generations.tasks import generation_sweep
from tests.factories import AIModelFactory, GenerationFactory
from tests.helpers import run_in_threads

Status = Generation.Status


def queued_tasks() -> list[tuple[str, tuple]]:
    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id")]
    return [(task["func"], tuple(task["args"])) for task in tasks]


def age(generation: Generation, *, created_seconds_ago: int = 0, timeout_in: int = 600) -> None:
    now = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(
        created_at=now - timedelta(seconds=created_seconds_ago), timeout_at=now + timedelta(seconds=timeout_in)
    )


@pytest.mark.django_db
def test_a_timed_out_generation_is_failed_in_its_owners_language(owner, stranger):
    owner.language_code = "ru"
    owner.save(update_fields=["language_code"])
    model = AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=7)
    russian, english = GenerationFactory.create(user=owner, model=model), GenerationFactory.create(user=stranger,
                                                                                                    model=model)
    for generation in (russian, english):
        age(generation, created_seconds_ago=1000, timeout_in=-1)

    assert generations_sweep().timed_out == 2

    russian.refresh_from_db()
    english.refresh_from_db()
    with translation.override("ru"):
        assert russian.error_message == str(FailureCode.TIMEOUT.label)
    with translation.override("en"):
        assert english.error_message == str(FailureCode.TIMEOUT.label)
    assert russian.error_message != english.error_message


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_fail_and_refund_a_timed_out_generation_once(owner, stranger, audit_passes):
    model = AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=7)
    pending = GenerationFactory.create(user=owner, model=model)
    processing = GenerationFactory.create(user=stranger, model=model)
    Generation.objects.filter(pk=processing.pk).update(status=Status.PROCESSING, attempts=1,
                                                      next_check_at=timezone.now() + timedelta(minutes=5))
    alive = GenerationFactory.create(user=owner, model=model)
    for generation in (pending, processing):
        age(generation, created_seconds_ago=1000, timeout_in=-1)

    reports = run_in_threads(4, lambda i: generations_sweep())

    assert sum(report.timed_out for report in reports) == 2
    for generation in (pending, processing):
        generation.refresh_from_db()
        assert (generation.status, generation.error_code, generation.refunded) == (Status.FAILED, "TIMEOUT", True)
        assert generation.error_message == str(FailureCode.TIMEOUT.label)
        assert CreditLedgerEntry.objects.filter(
            reference=f"generation:{generation.pk}", kind=CreditKind.GENERATION_REFUND
        ).count() == 1
    alive.refresh_from_db()
    assert alive.status == Status.PENDING
    owner.refresh_from_db()
    stranger.refresh_from_db()
    assert (owner.credits, stranger.credits) == (7, 7)


@pytest.mark.django_db
def test_a_second_sweep_refunds_nothing_more(owner, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.VIDEO))
    age(generation, created_seconds_ago=2000, timeout_in=-5)

    assert generations_sweep().timed_out == 1
    assert generations_sweep().timed_out == 0
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_REFUND).count() == 1


@pytest.mark.django_db
def test_a_pending_generation_nobody_claimed_is_enqueued_again_once_per_interval(owner, settings):
    settings.GENERATION_PENDING_REQUEUE_SECONDS = 60
    model = AIModelFactory.create(kind=AIModel.Kind.IMAGE)
    lost = GenerationFactory.create(user=owner, model=model)
    age(lost, created_seconds_ago=90)
    fresh = GenerationFactory.create(user=owner, model=model)
    age(fresh, created_seconds_ago=10)

    assert generations_sweep().requeued == 1
    assert queued_tasks() == [("generations.tasks.generation_run", (lost.pk,))]
    # The next minute's sweep leaves it alone: it was enqueued a moment ago.
    assert generations_sweep().requeued == 0
    # After another interval it is enqueued again.
    Generation.objects.filter(pk=lost.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    assert generations_sweep().requeued == 1


@pytest.mark.django_db
def test_a_stalled_processing_generation_is_handed_to_a_worker_again(owner, settings):
    settings.GENERATION_STALLED_AFTER_SECONDS = 90
    model = AIModelFactory.create(kind=AIModel.Kind.VIDEO)
    stalled, waiting = GenerationFactory.create_batch(2, user=owner, model=model)
    now = timezone.now()
    Generation.objects.filter(pk=stalled.pk).update(status=Status.PROCESSING, next_check_at=now - timedelta(minutes=3))
    Generation.objects.filter(pk=waiting.pk).update(status=Status.PROCESSING, next_check_at=now - timedelta(seconds=20))

    assert generations_sweep().resumed == 1
    assert queued_tasks() == [("generations.tasks.generation_attempt", (stalled.pk,))]


@pytest.mark.django_db
def test_old_task_results_are_deleted(settings):
    settings.Q_RESULTS_KEEP_DAYS = 7
    now = timezone.now()
    for name, days, success in [("old-ok", 8, True), ("old-failed", 30, False), ("new-ok", 1, True),
                                ("new-failed", 6, False)]:
        Task.objects.create(id=name, name=name, func="x.y", started=now - timedelta(days=days),
                            stopped=now - timedelta(days=days), success=success)

    assert generations_sweep().results_deleted == 2
    assert sorted(Task.objects.values_list("name", flat=True)) == ["new-failed", "new-ok"]


@pytest.mark.django_db
def test_the_sweep_task_reports_what_it_did(owner):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    age(generation, created_seconds_ago=5000, timeout_in=-1)
    assert generation_sweep() == {
        "timed_out": 1, "requeued": 0, "resumed": 0, "results_deleted": 0, "uploads_deleted": 0
    }


@pytest.mark.django_db
def test_migrate_registers_exactly_one_sweeper_schedule():
    # The test database was migrated: the schedule is there.
    [schedule] = Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        GENERATION_SWEEP, Schedule.MINUTES, 1, -1
    )
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    assert Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).count() == 1


@pytest.mark.django_db
def test_registering_repairs_duplicates_and_edits():
    sweep_schedule_ensure()
    Schedule.objects.create(name=SWEEP_SCHEDULE_NAME, func=GENERATION_SWEEP, schedule_type=Schedule.MINUTES, minutes=1)
    Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).update(minutes=60)

    schedule = sweep_schedule_ensure()

    assert list(Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME)) == [schedule]
    assert schedule.minutes == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_leave_one_schedule():
    Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).delete()

    run_in_threads(6, lambda i: sweep_schedule_ensure())

    assert Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).count() == 1
