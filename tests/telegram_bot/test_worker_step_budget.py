"""SQL budget of a worker step that completes a generation and tells the user in the
same task (the worker benchmark's path, and most generations'): six statements, each
one round trip without BEGIN or COMMIT: the claim (which returns the generation with its
model and user), the claim hook's status-message lookup, the completion, the
notification's read (the generation, its user and model, and its status message), the
notification's claim and the record of the sent photo."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generations.models import AIModel, Generation
from generations.services import generation_claim
from generations.tasks import generation_run
from telegram_bot.models import GenerationNotification
from tests.factories import AIModelFactory, GenerationFactory

pytestmark = pytest.mark.django_db

STEP_BUDGET = 6


@pytest.fixture
def demo_model() -> AIModel:
    return AIModelFactory.create(kind=AIModel.Kind.IMAGE, provider=AIModel.Provider.DEMO, price=2)


def test_a_step_that_completes_and_notifies_takes_six_statements(owner, demo_model, bot_settings, fake_telegram,
                                                                 django_capture_on_commit_callbacks):
    warm_up = GenerationFactory.create(user=owner, model=demo_model, prompt="warm up")
    generation = GenerationFactory.create(user=owner, model=demo_model, prompt="a lighthouse in a storm")
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_run(warm_up.pk) == "completed"
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        assert generation_run(generation.pk) == "completed"

    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) <= STEP_BUDGET, "\n".join(statements)
    assert not any(sql in ("BEGIN", "COMMIT") for sql in statements), statements
    assert len(fake_telegram.calls_to("sendPhoto")) == 2
    assert GenerationNotification.objects.get(pk=generation.pk).status == GenerationNotification.Status.SENT


def test_the_claim_returns_the_generation_with_its_model_and_user(owner, demo_model,
                                                                  django_capture_on_commit_callbacks):
    generation = GenerationFactory.create(user=owner, model=demo_model, prompt="a fox")
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        claimed = generation_claim(generation_id=generation.pk)
        assert claimed is not None
        assert (claimed.model.slug, claimed.user.telegram_id) == (demo_model.slug, owner.telegram_id)
        assert (claimed.status, claimed.attempts, claimed.prompt) == (Generation.Status.PROCESSING, 1, "a fox")
        assert claimed.next_check_at is not None and claimed.started_at is not None
    # The claim and the hook's status-message lookup; the model and the user came with the claim.
    assert len(captured.captured_queries) == 2, [query["sql"] for query in captured.captured_queries]
    assert generation_claim(generation_id=generation.pk) is None  # a duplicate delivery claims nothing
    stored = Generation.objects.get(pk=generation.pk)
    assert (stored.status, stored.attempts, stored.started_at) == (Generation.Status.PROCESSING, 1,
                                                                   claimed.started_at)
