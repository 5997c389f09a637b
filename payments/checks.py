"""System checks of the payments settings: nonsense values stop start-up."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from payments.models import SUBSCRIPTION_PERIODS, TEST_ENVIRONMENT_SUBSCRIPTION_PERIODS


def payments_settings_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if not 0 <= settings.REFERRAL_PERCENT <= 100:
        problems.append(checks.Error(
            f"REFERRAL_PERCENT must be between 0 and 100, not {settings.REFERRAL_PERCENT}.", id="payments.E001"
        ))
    if settings.WITHDRAWAL_MIN_AMOUNT < 1:
        problems.append(checks.Error(
            f"WITHDRAWAL_MIN_AMOUNT must be at least 1 Star, not {settings.WITHDRAWAL_MIN_AMOUNT}.",
            id="payments.E002",
        ))
    if settings.REFERRAL_LINK_MAX_AGE_HOURS < 0:
        problems.append(checks.Error("REFERRAL_LINK_MAX_AGE_HOURS must not be negative.", id="payments.E003"))
    if settings.TELEGRAM_API_TIMEOUT <= 0:
        problems.append(checks.Error("TELEGRAM_API_TIMEOUT must be positive.", id="payments.E004"))
    period = settings.STARS_SUBSCRIPTION_PERIOD_SECONDS
    if period not in SUBSCRIPTION_PERIODS + TEST_ENVIRONMENT_SUBSCRIPTION_PERIODS:
        problems.append(checks.Error(
            f"STARS_SUBSCRIPTION_PERIOD_SECONDS must be {SUBSCRIPTION_PERIODS[0]} (30 days, the only period "
            f"Telegram accepts), or 60 or 300 in Telegram's test environment; not {period}.",
            id="payments.E005",
        ))
    elif period in TEST_ENVIRONMENT_SUBSCRIPTION_PERIODS:
        problems.append(checks.Warning(
            f"STARS_SUBSCRIPTION_PERIOD_SECONDS is {period}: only Telegram's test environment accepts it; "
            "production needs 2592000.",
            id="payments.W002",
        ))
    if settings.STARS_RECONCILE_DAYS < 1:
        problems.append(checks.Error("STARS_RECONCILE_DAYS must be at least 1.", id="payments.E006"))
    if settings.TELEGRAM_BOT_ENABLED and not settings.TELEGRAM_BOT_USERNAME:
        problems.append(checks.Warning(
            "TELEGRAM_BOT_USERNAME is not set: referral links are missing from /api/referrals.",
            id="payments.W001",
        ))
    return problems
