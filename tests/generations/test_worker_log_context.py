"""Worker log lines carry the id of the generation they are about (JSON logs)."""

import json
import logging

import pytest

from core.logging import JsonFormatter
from generations.models import AIModel
from generations.tasks import generation_attempt, generation_run
from tests.factories import AIModelFactory, GenerationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    lines: list[dict] = []
    formatter = JsonFormatter()

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(formatter.format(record)))

    handler = Capture(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lines
    root.removeHandler(handler)
    root.setLevel(previous)


def test_a_worker_step_logs_with_its_generation_id(owner, json_lines, settings, audit_passes):
    settings.AIMLAPI_KEY = ""  # the offline demo provider
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(provider=AIModel.Provider.DEMO))
    assert generation_run(generation.pk) == "completed"
    worker_lines = [line for line in json_lines if line["logger"].startswith("generations.")]
    completed = [line for line in worker_lines if "completed" in line["message"]]
    assert completed, json_lines
    assert all(line["generation_id"] == generation.pk for line in worker_lines)
    logging.getLogger("generations.test").info("after the task")
    assert "generation_id" not in json_lines[-1], "the context leaked out of the task"


def test_a_failing_step_logs_with_its_generation_id(owner, json_lines, fake_aimlapi, audit_passes):
    from tests.fakes.aimlapi import IMAGES, Reply, error_body

    fake_aimlapi.script("POST", IMAGES, Reply(400, json=error_body(400, "prompt rejected by the safety filter")))
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create())
    generation_attempt(generation.pk)  # delivered as a later step: the claim happens all the same
    generation.refresh_from_db()
    assert generation.status == "failed"
    failed = [line for line in json_lines if line["logger"].startswith("generations.") and line["level"] == "WARNING"]
    assert failed and all(line["generation_id"] == generation.pk for line in failed)
    assert "test-aimlapi-secret-key" not in json.dumps(json_lines)
