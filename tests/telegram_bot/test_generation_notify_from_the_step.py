"""The worker step that ends a generation tells the user in the same task (no
notification task in between); a step that took more than half of its task's time
leaves that to a task of its own; a claim queues the status-message task only for a
generation started in the chat."""

import pytest

from generations.models import AIModel, Generation
from generations.services import generation_claim
from generations.tasks import generation_run
from telegram_bot.models import GenerationNotification
from tests.factories import AIModelFactory, GenerationFactory
from tests.telegram_bot.queue import queued, queued_run

pytestmark = pytest.mark.django_db

NOTIFY = "telegram_bot.tasks.generation_notify"
PROGRESS = "telegram_bot.tasks.generation_progress"


@pytest.fixture
def demo_generation(owner) -> Generation:
    model = AIModelFactory.create(kind=AIModel.Kind.IMAGE, provider=AIModel.Provider.DEMO, price=2)
    return GenerationFactory.create(user=owner, model=model, prompt="a lighthouse in a storm")


def test_the_step_that_completes_a_generation_sends_its_photo(demo_generation, owner, bot_settings, fake_telegram,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_run(demo_generation.pk) == "completed"

    (photo,) = fake_telegram.calls_to("sendPhoto")
    assert (int(photo["chat_id"]), photo["caption"]) == (owner.telegram_id, "a lighthouse in a storm")
    assert GenerationNotification.objects.get(pk=demo_generation.pk).status == GenerationNotification.Status.SENT
    assert queued(NOTIFY) == [] and queued(PROGRESS) == []  # nor a status-message task: it has no status message


def test_a_step_that_took_long_leaves_the_notification_to_a_task(demo_generation, bot_settings, fake_telegram,
                                                                 django_capture_on_commit_callbacks):
    # A task timeout of 0: any step has used more than half of it.
    bot_settings.Q_CLUSTER = {**bot_settings.Q_CLUSTER, "timeout": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_run(demo_generation.pk) == "completed"

    assert fake_telegram.calls_to("sendPhoto") == []
    (task,) = queued(NOTIFY)
    assert (task["args"], task["name"]) == ((demo_generation.pk,), f"notify-{demo_generation.pk}")
    assert queued_run(NOTIFY) == ["sent"]
    assert len(fake_telegram.calls_to("sendPhoto")) == 1


def test_a_failed_step_tells_the_user_in_the_same_task(demo_generation, owner, bot_settings, fake_telegram, settings,
                                                       django_capture_on_commit_callbacks):
    settings.GENERATION_RESULT_MAX_BYTES = 10  # the demo's picture is refused: the generation fails
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_run(demo_generation.pk) == "failed"

    (message,) = fake_telegram.calls_to("sendMessage")
    assert int(message["chat_id"]) == owner.telegram_id
    assert GenerationNotification.objects.get(pk=demo_generation.pk).status == GenerationNotification.Status.SENT
    assert queued(NOTIFY) == []


def test_a_claim_queues_no_status_message_task_for_a_generation_without_one(demo_generation,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_claim(generation_id=demo_generation.pk) is not None

    assert queued(PROGRESS) == []
