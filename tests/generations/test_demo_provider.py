"""The offline demo provider makes real files, images at once and videos as polled jobs,
and is chosen when there is no AIML API key or the model says so."""

import io

import pytest
from PIL import Image

from generations.models import AIModel, Generation
from generations.providers import AimlApiProvider, DemoProvider, GenerationRequest, provider_for
from generations.tasks import generation_run
from tests.factories import AIModelFactory, GenerationFactory
from tests.generations.steps import scheduled_steps_run


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_an_image_is_a_png_of_the_requested_shape():
    request = GenerationRequest(kind=AIModel.Kind.IMAGE, model="demo", prompt="Кот в космосе",
                                params={"aspect_ratio": "16:9"}, title="Demo")
    state = DemoProvider().submit(request=request)
    assert state.result.content_type == "image/png"
    with Image.open(io.BytesIO(state.result.data)) as image:
        assert (image.format, image.size) == ("PNG", (1344, 768))
        # Not a flat picture: a gradient and text.
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 1000


def test_the_image_takes_the_configured_time_in_the_call():
    clock = Clock()
    DemoProvider(delay_seconds=3, clock=clock, sleep=clock.sleep).submit(
        request=GenerationRequest(kind=AIModel.Kind.IMAGE, model="demo", prompt="x")
    )
    assert clock.slept == [3]


def test_a_video_is_a_job_that_is_ready_after_the_delay():
    clock = Clock()
    provider = DemoProvider(delay_seconds=20, clock=clock, sleep=clock.sleep)
    request = GenerationRequest(kind=AIModel.Kind.VIDEO, model="demo", prompt="waves")

    created = provider.submit(request=request)
    assert not created.finished and created.job_id.startswith("demo:")
    clock.now += 19
    assert not provider.poll(request=request, job_id=created.job_id).finished
    clock.now += 2
    done = provider.poll(request=request, job_id=created.job_id)

    assert clock.slept == []  # a video job never blocks the worker
    assert done.result.content_type == "image/gif"
    with Image.open(io.BytesIO(done.result.data)) as animation:
        assert animation.format == "GIF"
        assert animation.n_frames > 10  # type: ignore[attr-defined]  # Pillow types n_frames on GIF files only


def test_the_demo_delay_is_capped_well_under_the_task_timeout(settings):
    settings.DEMO_PROVIDER_DELAY_SECONDS = 1000
    assert DemoProvider.from_settings().delay_seconds == settings.Q_CLUSTER["timeout"] / 4


@pytest.mark.django_db
def test_provider_choice(settings):
    aimlapi_model = AIModelFactory.create(provider=AIModel.Provider.AIMLAPI)
    demo_model = AIModelFactory.create(provider=AIModel.Provider.DEMO)
    settings.AIMLAPI_KEY = ""
    assert isinstance(provider_for(aimlapi_model), DemoProvider)
    settings.AIMLAPI_KEY = "key"
    assert isinstance(provider_for(aimlapi_model), AimlApiProvider)
    assert isinstance(provider_for(demo_model), DemoProvider)


@pytest.mark.django_db
def test_a_demo_video_generation_runs_to_completion(owner, settings, audit_passes):
    settings.AIMLAPI_KEY = ""
    settings.DEMO_PROVIDER_DELAY_SECONDS = 0.001
    settings.GENERATION_POLL_INTERVAL_SECONDS = 0
    video_model = AIModelFactory.create(kind=AIModel.Kind.VIDEO)
    generation = GenerationFactory.create(user=owner, model=video_model, prompt="a tiny film")

    assert generation_run(generation.pk) == "poll_scheduled"
    assert scheduled_steps_run()[-1] == "completed"

    generation.refresh_from_db()
    assert (generation.status, generation.result_content_type) == (Generation.Status.COMPLETED, "image/gif")
    assert generation.result_file.name.endswith(".gif")
