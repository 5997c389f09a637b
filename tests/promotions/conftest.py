"""Fixtures of the promotions tests: a controlled clock, the daily bonus switched on."""

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.promotions.helpers import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The time starts at 2026-12-10 12:00 UTC and moves only when the test says so."""
    clock = Clock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


@pytest.fixture
def bonus_on(settings: Any) -> Any:
    settings.DAILY_BONUS_CREDITS = 5
    return settings


@pytest.fixture
def staff_client(staff_user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(staff_user)
    return client
