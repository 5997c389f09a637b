"""Reads of promotions."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from core.errors import NotFound
from promotions.models import DailyBonusClaim
from promotions.services.daily_bonus import bonus_day, bonus_next_at, daily_bonus_enabled


@dataclass(frozen=True)
class DailyBonusStatus:
    credits: int
    available: bool
    # When the next bonus can be taken; None while today's is still there.
    next_at: datetime | None


def daily_bonus_status(*, user: User) -> DailyBonusStatus:
    """Whether the user can take today's bonus; NotFound while the bonus is off."""
    if not daily_bonus_enabled():
        raise NotFound()
    day = bonus_day(timezone.now())
    taken = DailyBonusClaim.objects.filter(user=user, day=day).exists()
    return DailyBonusStatus(credits=settings.DAILY_BONUS_CREDITS, available=not taken,
                            next_at=bonus_next_at(day) if taken else None)
