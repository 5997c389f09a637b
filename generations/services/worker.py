"""Running a generation, one step per task, safely under any delivery.

A step is: take the generation (claim it when pending, or take the lease of a
processing one whose next step is due), call the provider once (create the
results, poll the job, or look up a create whose answer was lost), then either
finish (store the results and complete, or fail and refund) or hand the generation
on to a later step by scheduling it.

A video create whose answer never came (a read timeout, a 5xx) may have started a
paid job at the provider. It is never posted again blindly: the next steps look the
create up by its X-Client-Request-Id (`Provider.lookup`) and poll the job they find;
if the provider says the create failed, a new one is posted; if nothing turns up
within AIMLAPI_LOOKUP_WINDOW_SECONDS the generation fails and is refunded rather
than risk a second paid job.

Nothing here relies on a task running exactly once. Claims and leases are
conditional UPDATEs, so a duplicate delivery finds nothing to do; a killed
worker's lease runs out and a redelivery or the sweeper takes over; a result that
arrives after a cancel or a timeout is thrown away. Retries never sleep in a
worker: they are Django-Q2 schedules due after an exponential backoff with jitter.
"""

import enum
import logging
import random
import time
from datetime import datetime, timedelta
from decimal import Decimal

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
    InputImage,
    LookupOutcome,
    PermanentProviderError,
    Provider,
    ProviderAccountError,
    ProviderError,
    TransientProviderError,
    provider_for,
)
from generations.services.alerts import admin_alert_enqueue
from generations.services.lifecycle import (
    generation_claim,
    generation_complete,
    generation_fail,
    generation_lease_take,
    generation_notify_now,
    generation_step_handoff,
)
from generations.services.results import results_delete, results_store

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
    """Run the next step of a generation if it is this delivery's to run; when the step
    ended the generation, tell the user in the same task (`generation_notify_now`)."""
    started = time.monotonic()
    generation = generation_claim(generation_id=generation_id) or _lease_take_if_due(generation_id)
    if generation is None:
        return StepOutcome.SKIPPED
    provider = provider_for(generation.model)
    try:
        outcome = _step(generation, provider)
    except DatabaseError:
        # Nothing can be recorded now; the lease runs out and the step is taken again.
        raise
    except Exception:
        # A bug, not the provider: end the generation (refunded) rather than leave
        # the user waiting for the timeout. The traceback goes to the logs only.
        logger.exception("generation %s: unexpected error in a worker step", generation_id)
        _fail(generation, FailureCode.INTERNAL_ERROR)
        outcome = StepOutcome.FAILED
    finally:
        provider.close()
    if outcome in (StepOutcome.COMPLETED, StepOutcome.FAILED):
        # Ended by this step (or, for FAILED, maybe a moment earlier by a cancel, whose own
        # notification task then finds nothing left to do).
        generation_notify_now(generation_id=generation_id, task_started=started)
    return outcome


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
    confirming = not polling and bool(generation.unconfirmed_request_id)
    if not polling and not confirming and generation.attempts > settings.GENERATION_PROVIDER_MAX_ATTEMPTS:
        # Only after workers died mid-call: every normal retry checks the limit before scheduling.
        _fail(generation, FailureCode.PROVIDER_UNAVAILABLE)
        return StepOutcome.FAILED
    try:
        request = _provider_request(generation)
        if confirming:
            return _confirm(generation, provider, request, lease)
        # The provider is called, and the results downloaded, outside any database
        # transaction: these calls take seconds to minutes and must hold no locks.
        if polling:
            state = provider.poll(request=request, job_id=generation.provider_job_id)
        else:
            state = provider.submit(request=request)
        if not state.finished:
            return _poll_later(generation, lease, job_id=state.job_id, cost_usd=state.cost_usd)
        stored = results_store(generation=generation, results=state.results)
    except TransientProviderError as error:
        if error.may_have_started and not polling:
            return _confirm_later(generation, lease, error, request_id=request.client_request_id)
        return _retry_later(generation, lease, error, polling=polling)
    except ProviderAccountError as error:
        logger.error("generation %s failed: the provider account is unusable: %s", generation.pk, error.detail)
        _account_alert(error)
        _fail(generation, error.code)
        return StepOutcome.FAILED
    except PermanentProviderError as error:
        logger.warning("generation %s failed permanently: %s", generation.pk, error.detail)
        _fail(generation, error.code, provider_cost_usd=error.cost_usd)
        return StepOutcome.FAILED
    except OSError as error:
        # Reading an input image or writing a result in the media storage failed (disk
        # full, storage service down): try again later.
        transient = TransientProviderError(FailureCode.INTERNAL_ERROR, f"media storage: {error!r}")
        return _retry_later(generation, lease, transient, polling=polling)

    if generation_complete(generation_id=generation.pk, results=stored, provider_cost_usd=state.cost_usd,
                           notify_on_commit=False):
        logger.info("generation %s completed: %s", generation.pk, ", ".join(result.name for result in stored))
        return StepOutcome.COMPLETED
    # A cancel or a timeout won the race: the late results change nothing.
    results_delete(stored)
    logger.info("generation %s ended before its results arrived; results discarded", generation.pk)
    return StepOutcome.DISCARDED


def _provider_request(generation: Generation) -> GenerationRequest:
    """What the provider needs: the model that takes input images when there are some,
    the images' bytes from the media storage, and the name of this attempt."""
    model = generation.model
    images = tuple(
        InputImage(data=_read(file.name), content_type=file.content_type) for file in generation.image_files()
    )
    return GenerationRequest(
        kind=AIModel.Kind(generation.kind),
        model=(model.provider_model_id_with_images or model.provider_model_id) if images else model.provider_model_id,
        prompt=generation.prompt,
        params=generation.params or {},
        images=images,
        title=model.name,
        client_request_id=provider_request_id(generation_id=generation.pk, attempt=generation.attempts),
    )


def provider_request_id(*, generation_id: int, attempt: int) -> str:
    """X-Client-Request-Id of an attempt (its polls carry the same): 1-128 of A-Z a-z 0-9 . _ : -."""
    return f"nanogen-{generation_id}-{attempt}"


def _read(name: str) -> bytes:
    with default_storage.open(name) as file:
        data: bytes = file.read()
    return data


def _confirm_later(
    generation: Generation, lease: datetime, error: TransientProviderError, *, request_id: str
) -> StepOutcome:
    """A create may have started a job: look it up at the next step instead of posting."""
    logger.warning(
        "generation %s: the create %s may have started a job (%s); looking it up before anything is posted again",
        generation.pk, request_id, error.detail,
    )
    due = min(timezone.now() + timedelta(seconds=settings.GENERATION_POLL_INTERVAL_SECONDS), generation.timeout_at)
    if not _schedule(generation, lease, due, unconfirmed_request_id=request_id):
        return StepOutcome.SUPERSEDED
    return StepOutcome.POLL_SCHEDULED


def _confirm(generation: Generation, provider: Provider, request: GenerationRequest, lease: datetime) -> StepOutcome:
    """Look up a create whose answer was lost: poll the job it started, post again if it
    failed, keep looking for a while, then give up without posting (and refund)."""
    since = generation.unconfirmed_since or generation.created_at
    try:
        lookup = provider.lookup(request=request, client_request_id=generation.unconfirmed_request_id, since=since)
        outcome, job_id = lookup.outcome, lookup.job_id
    except ProviderError as error:
        logger.warning("generation %s: looking up %s failed: %s", generation.pk, generation.unconfirmed_request_id,
                       error.detail)
        outcome, job_id = LookupOutcome.NOT_FOUND, ""
    now = timezone.now()
    if outcome == LookupOutcome.FOUND:
        logger.info("generation %s: the lost create %s started job %s; polling it", generation.pk,
                    generation.unconfirmed_request_id, job_id)
        if not _schedule(generation, lease, now, provider_job_id=job_id):
            return StepOutcome.SUPERSEDED
        return StepOutcome.POLL_SCHEDULED
    if outcome == LookupOutcome.FAILED:
        if generation.attempts >= settings.GENERATION_PROVIDER_MAX_ATTEMPTS:
            _fail(generation, FailureCode.PROVIDER_UNAVAILABLE)
            return StepOutcome.FAILED
        logger.info("generation %s: the lost create %s failed at the provider; creating again", generation.pk,
                    generation.unconfirmed_request_id)
        due = now + timedelta(seconds=retry_delay(attempt=generation.attempts))
        if not _schedule(generation, lease, min(due, generation.timeout_at), unconfirmed_clear=True):
            return StepOutcome.SUPERSEDED
        return StepOutcome.RETRY_SCHEDULED
    if now - since >= timedelta(seconds=settings.AIMLAPI_LOOKUP_WINDOW_SECONDS):
        logger.error(
            "generation %s: the create %s left no trace in %s s; failing it rather than risk a second paid job",
            generation.pk, generation.unconfirmed_request_id, settings.AIMLAPI_LOOKUP_WINDOW_SECONDS,
        )
        _fail(generation, FailureCode.PROVIDER_UNAVAILABLE)
        return StepOutcome.FAILED
    due = min(now + timedelta(seconds=settings.GENERATION_POLL_INTERVAL_SECONDS), generation.timeout_at)
    if not _schedule(generation, lease, due):
        return StepOutcome.SUPERSEDED
    return StepOutcome.POLL_SCHEDULED


ACCOUNT_ALERTS = {
    "out_of_credits": "⚠️ AIML API: the account is out of credits. Every generation fails (and is refunded) "
    "until it is topped up: https://aimlapi.com/app/billing",
    "key_refused": "⚠️ AIML API refused our key (AIMLAPI_KEY). Every generation fails (and is refunded) until "
    "it is fixed.",
}


def _account_alert(error: ProviderAccountError) -> None:
    text = ACCOUNT_ALERTS.get(error.reason, f"⚠️ AIML API account problem: {error.reason}")
    admin_alert_enqueue(text=f"{text}\n{error.detail}", rate_key=f"provider-account:{error.reason}")


def _poll_later(generation: Generation, lease: datetime, *, job_id: str, cost_usd: Decimal | None) -> StepOutcome:
    due = timezone.now() + timedelta(seconds=settings.GENERATION_POLL_INTERVAL_SECONDS)
    # The last look is at the deadline, when the step fails the generation with TIMEOUT.
    due = min(due, generation.timeout_at)
    job_id = "" if generation.provider_job_id else job_id
    if not _schedule(generation, lease, due, provider_job_id=job_id, provider_cost_usd=cost_usd):
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


def _schedule(
    generation: Generation,
    lease: datetime,
    due: datetime,
    *,
    provider_job_id: str = "",
    unconfirmed_request_id: str = "",
    unconfirmed_clear: bool = False,
    provider_cost_usd: Decimal | None = None,
) -> bool:
    """Hand the generation to a step at `due` and schedule the task that runs it.

    If the process dies between the two, the sweeper finds the generation overdue
    and enqueues the step itself.
    """
    if not generation_step_handoff(
        generation_id=generation.pk,
        lease=lease,
        next_check_at=due,
        provider_job_id=provider_job_id,
        unconfirmed_request_id=unconfirmed_request_id,
        unconfirmed_clear=unconfirmed_clear,
        provider_cost_usd=provider_cost_usd,
    ):
        return False
    task_schedule_once(func=GENERATION_ATTEMPT, args=(generation.pk,), due=due, name=f"generation {generation.pk}")
    return True


def _fail(generation: Generation, code: FailureCode, *, provider_cost_usd: Decimal | None = None) -> bool:
    return generation_fail(
        generation_id=generation.pk,
        error_code=code,
        error_message=failure_message(code, language_code=generation.user.language_code),
        provider_cost_usd=provider_cost_usd,
        notify_on_commit=False,  # generation_advance tells the user itself
    )
