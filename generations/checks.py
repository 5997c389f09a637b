"""System checks of the worker's settings: nonsense stops `manage.py check`, start-up and deploys."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def worker_settings_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    timeout = settings.Q_CLUSTER["timeout"]
    if settings.GENERATION_PROVIDER_MAX_ATTEMPTS < 1:
        messages.append(Error("GENERATION_PROVIDER_MAX_ATTEMPTS must be at least 1.", id="generations.E001"))
    if settings.GENERATION_RETRY_BASE_SECONDS < 0 or settings.GENERATION_RETRY_MAX_SECONDS < 0:
        messages.append(Error("GENERATION_RETRY_*_SECONDS must not be negative.", id="generations.E002"))
    if settings.GENERATION_POLL_INTERVAL_SECONDS <= 0:
        messages.append(Error("GENERATION_POLL_INTERVAL_SECONDS must be positive.", id="generations.E003"))
    step = (
        2 * settings.AIMLAPI_CONNECT_TIMEOUT_SECONDS
        + settings.AIMLAPI_READ_TIMEOUT_SECONDS
        + 2 * settings.GENERATION_RESULT_READ_TIMEOUT_SECONDS
    )
    if step >= timeout:
        messages.append(
            Warning(
                f"A worker step may take {step:.0f} s (AIML API timeouts plus the result download) "
                f"but Q_TIMEOUT is {timeout} s: slow steps are killed and retried.",
                hint="Raise Q_TIMEOUT (and Q_RETRY above it) or lower the timeouts.",
                id="generations.W001",
            )
        )
    if settings.DEMO_PROVIDER_DELAY_SECONDS > timeout / 4:
        messages.append(
            Warning(
                f"DEMO_PROVIDER_DELAY_SECONDS is capped at Q_TIMEOUT / 4 = {timeout / 4:.0f} s for images.",
                id="generations.W002",
            )
        )
    return messages
