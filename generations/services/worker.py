"""Running a generation, one step per task, safely under any delivery.

A step is: take the generation (claim it when pending, or take the lease of a
processing one whose next step is due), call the provider once (create the
result, or poll the job), then either finish (store the result and complete, or
fail and refund) or hand the generation on to a later step by scheduling it.

Nothing here relies on a task running exactly once. Claims and leases are
conditional UPDATEs, so a duplicate delivery finds nothing to do; a killed
worker's lease runs out and a redelivery or the sweeper takes over; a result that
arrives after a cancel or a timeout is thrown away. Retries never sleep in a
worker: they are Django-Q2 schedules due after an exponential backoff with jitter.
"""

import enum
import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.utils import timezone

from core.scheduling import task_schedule_once
from core.task_names import GENERATION_ATTEMPT
from generations.failures import FailureCode, failure_message
from generations.models import AIModel, Generation
from generations.providers import (
    GenerationRequest,
    PermanentProviderError,
    Provider,
    TransientProviderError,
    provider_for,
)
from generations.services.lifecycle import (
    generation_claim,
    generation_complete,
    generation_fail,
    generation_lease_take,
    generation_step_handoff,
)
from generations.services.results import result_store

logger = logging.getLogger(__name__)

# Clocks of the machines that schedule and run steps may disagree a little.
CLOCK_SKEW = timedelta(seconds=2)


class StepOutcome(enum.StrEnum):
    SKIPPED = "skipped"  # not this delivery's to do: a duplicate, not due, or already finished
    COMPLETED = "completed"
    FAILED = "failed"
    DISCARDED = "discarded"  # the result came after a cancel or a timeout
    RETRY_SCHEDULED = "retry_scheduled"
    POLL_SCHEDULED = "poll_scheduled"
    SUPERSEDED = "superseded"  # the generation ended or was taken over while this step ran


def generation_advance(*, generation_id: int) -> StepOutcome:
    """Run the next step of a generation if it is this delivery's to run."""
    generation = generation_claim(generation_id=generation_id) or _lease_take_if_due(generation_id)
    if generation is None:
        return StepOutcome.SKIPPED
    provider = provider_for(generation.model)
    try:
        return _step(generation, provider)
    except DatabaseError:
        # Nothing can be recorded now; the lease runs out and the step is taken again.
        raise
    except Exception:
        # A bug, not the provider: end the generation (refunded) rather than leave
        # the user waiting for the timeout. The traceback goes to the logs only.
        logger.exception("generation %s: unexpected error in a worker step", generation_id)
        _fail(generation, FailureCode.INTERNAL_ERROR)
        return StepOutcome.FAILED
    finally:
        provider.close()


def _lease_take_if_due(generation_id: int) -> Generation | None:
    row = Generation.objects.filter(pk=generation_id).values("status", "next_check_at").first()
    if row is None or row["status"] != Generation.Status.PROCESSING:
        return None
    seen = row["next_check_at"]
    if seen is not None and seen > timezone.now() + CLOCK_SKEW:
        return None  # a live worker holds it, or the next step is not due yet
    return generation_lease_take(generation_id=generation_id, seen_next_check_at=seen)


def _step(generation: Generation, provider: Provider) -> StepOutcome:
    lease = generation.next_check_at
    if lease is None:
        # The claim and the lease both set it: a step without one is a bug (and fails the generation).
        raise RuntimeError(f"generation {generation.pk}: a worker step without a lease")
    if generation.timeout_at <= timezone.now():
        _fail(generation, FailureCode.TIMEOUT)
        return StepOutcome.FAILED
    polling = bool(generation.provider_job_id)
    if not polling and generation.attempts > settings.GENERATION_PROVIDER_MAX_ATTEMPTS:
        # Only after workers died mid-call: every normal retry checks the limit before scheduling.
        _fail(generation, FailureCode.PROVIDER_UNAVAILABLE)
        return StepOutcome.FAILED
    request = GenerationRequest(
        kind=AIModel.Kind(generation.kind),
        model=generation.model.provider_model_id,
        prompt=generation.prompt,
        params=generation.params or {},
        title=generation.model.name,
    )
    try:
        # The provider is called, and the result downloaded, outside any database
        # transaction: these calls take seconds to minutes and must hold no locks.
        if polling:
            state = provider.poll(request=request, job_id=generation.provider_job_id)
        else:
            state = provider.submit(request=request)
        if state.result is None:
            return _poll_later(generation, lease, job_id=state.job_id)
        stored = result_store(generation=generation, result=state.result)
    except TransientProviderError as error:
        return _retry_later(generation, lease, error, polling=polling)
    except PermanentProviderError as error:
        logger.warning("generation %s failed permanently: %s", generation.pk, error.detail)
        _fail(generation, error.code)
        return StepOutcome.FAILED
    except OSError as error:
        # Writing to the media storage failed (disk full, storage service down): try again later.
        transient = TransientProviderError(FailureCode.INTERNAL_ERROR, f"storing the result: {error!r}")
        return _retry_later(generation, lease, transient, polling=polling)

    if generation_complete(generation_id=generation.pk, result_file=stored.name, content_type=stored.content_type):
        logger.info("generation %s completed: %s", generation.pk, stored.name)
        return StepOutcome.COMPLETED
    # A cancel or a timeout won the race: the late result changes nothing.
    try:
        default_storage.delete(stored.name)
    except OSError:
        # The storage is down: the orphan file is harmless (nothing points at it).
        logger.warning("generation %s: could not delete the discarded result %s", generation.pk, stored.name)
    logger.info("generation %s ended before its result arrived; result discarded", generation.pk)
    return StepOutcome.DISCARDED


def _poll_later(generation: Generation, lease: datetime, *, job_id: str) -> StepOutcome:
    due = timezone.now() + timedelta(seconds=settings.GENERATION_POLL_INTERVAL_SECONDS)
    # The last look is at the deadline, when the step fails the generation with TIMEOUT.
    due = min(due, generation.timeout_at)
    job_id = "" if generation.provider_job_id else job_id
    if not _schedule(generation, lease, due, provider_job_id=job_id):
        return StepOutcome.SUPERSEDED
    return StepOutcome.POLL_SCHEDULED


def _retry_later(
    generation: Generation, lease: datetime, error: TransientProviderError, *, polling: bool
) -> StepOutcome:
    now = timezone.now()
    if polling:
        # The job keeps running at the provider whatever our poll saw: look again.
        delay = max(settings.GENERATION_POLL_INTERVAL_SECONDS, error.retry_after or 0)
        due = min(now + timedelta(seconds=delay), generation.timeout_at)
    else:
        if generation.attempts >= settings.GENERATION_PROVIDER_MAX_ATTEMPTS:
            logger.warning("generation %s: giving up after %s attempts: %s", generation.pk, generation.attempts,
                           error.detail)
            _fail(generation, error.code)
            return StepOutcome.FAILED
        due = now + timedelta(seconds=retry_delay(attempt=generation.attempts, retry_after=error.retry_after))
        if due >= generation.timeout_at:
            logger.warning("generation %s: no time left for another attempt: %s", generation.pk, error.detail)
            _fail(generation, error.code)
            return StepOutcome.FAILED
    logger.warning(
        "generation %s: transient error (attempt %s), next step at %s: %s",
        generation.pk, generation.attempts, due.isoformat(timespec="seconds"), error.detail,
    )
    if not _schedule(generation, lease, due):
        return StepOutcome.SUPERSEDED
    return StepOutcome.RETRY_SCHEDULED


def retry_delay(*, attempt: int, retry_after: float | None = None) -> float:
    """Seconds before attempt `attempt + 1`: exponential backoff with "equal jitter"
    (half fixed, half random), so retries spread out instead of arriving together;
    at least what the provider asked for in Retry-After."""
    base: float = settings.GENERATION_RETRY_BASE_SECONDS
    maximum: float = settings.GENERATION_RETRY_MAX_SECONDS
    ceiling = min(maximum, base * 2.0 ** (attempt - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after:
        delay = max(delay, min(retry_after, maximum))
    return delay


def _schedule(generation: Generation, lease: datetime, due: datetime, *, provider_job_id: str = "") -> bool:
    """Hand the generation to a step at `due` and schedule the task that runs it.

    If the process dies between the two, the sweeper finds the generation overdue
    and enqueues the step itself.
    """
    if not generation_step_handoff(
        generation_id=generation.pk, lease=lease, next_check_at=due, provider_job_id=provider_job_id
    ):
        return False
    task_schedule_once(func=GENERATION_ATTEMPT, args=(generation.pk,), due=due, name=f"generation {generation.pk}")
    return True


def _fail(generation: Generation, code: FailureCode) -> bool:
    return generation_fail(
        generation_id=generation.pk,
        error_code=code,
        error_message=failure_message(code, language_code=generation.user.language_code),
    )
