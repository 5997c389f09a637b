"""Shared pieces of the chaos tests: a cast of paying users, a demo model, real
qcluster processes, a sweeper loop, and the money checks every chaos test ends with."""

import signal
from collections.abc import Iterator

import pytest

from accounts.models import User
from generations.models import AIModel
from tests.chaos.helpers import (
    CREDITS_EACH,
)
from tests.factories import AIModelFactory, UserFactory
from tests.helpers import credits_give
from tests.ops.processes import Process


@pytest.fixture
def cast(db: None) -> list[User]:
    users = [
        UserFactory.create(telegram_id=7_000_000 + i, username=f"chaos{i}", first_name=f"Chaos {i}", language_code="en")
        for i in range(8)
    ]
    for user in users:
        credits_give(user, CREDITS_EACH)
    return users


@pytest.fixture
def demo_model(db: None) -> AIModel:
    return AIModelFactory.create(slug="chaos-demo", name="Chaos demo", kind=AIModel.Kind.IMAGE,
                                 provider=AIModel.Provider.DEMO, provider_model_id="demo", price=7)


@pytest.fixture
def sweeper_settings(settings):
    """The sweeper (in the test process) takes over at once what a dead worker left."""
    settings.GENERATION_PENDING_REQUEUE_SECONDS = 1
    settings.GENERATION_STALLED_AFTER_SECONDS = 0
    return settings


@pytest.fixture
def processes(tmp_path) -> Iterator[list[Process]]:
    """Processes a test starts; all are killed at the end, their logs shown on failure."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)
