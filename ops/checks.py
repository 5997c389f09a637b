from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register

METRICS_TOKEN_MIN_LENGTH = 24


@register("ops", deploy=True)
def metrics_token_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckWarning]:
    token = settings.METRICS_TOKEN
    if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
        return [
            CheckWarning(
                f"METRICS_TOKEN is shorter than {METRICS_TOKEN_MIN_LENGTH} characters.",
                hint="Use a long random value, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'.",
                id="ops.W001",
            )
        ]
    return []
