"""Django-Q2 tasks of the generation worker. They only call services.

Any of them may be delivered twice, late, or never (the ORM broker redelivers a
killed worker's task, Redis loses it); the services are written for that.

Each step runs in a log context with its generation's id, so that every log line
it writes, whichever module writes it, carries `generation_id`.
"""

from dataclasses import asdict

from core.logging import log_context
from generations.services.sweeper import generations_sweep
from generations.services.worker import generation_advance


def generation_run(generation_id: int) -> str:
    """The first step of a new generation, enqueued by the start service on commit."""
    with log_context(generation_id=generation_id):
        return generation_advance(generation_id=generation_id)


def generation_attempt(generation_id: int) -> str:
    """A later step: a retry after a transient error, or a poll of a provider's job."""
    with log_context(generation_id=generation_id):
        return generation_advance(generation_id=generation_id)


def generation_sweep() -> dict[str, int]:
    """Every minute (schedule `generations: sweep`): time out, re-enqueue, resume, clean up."""
    return asdict(generations_sweep())
