"""The daily bonus: DAILY_BONUS_CREDITS once per user per UTC day.

The claim is an INSERT that the unique (user, day) pair refuses the second time,
never a read-then-write, and its credits go through the ledger in the same
transaction with the reference `daily_bonus:<user id>:<day>`, which the ledger
also allows only once.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CreditKind, User
from accounts.services import credits_change
from core.errors import NotFound
from promotions.errors import BonusAlreadyClaimed
from promotions.models import DailyBonusClaim

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BonusClaimed:
    claim: DailyBonusClaim
    credits: int
    balance: int
    next_at: datetime


def daily_bonus_enabled() -> bool:
    credits: int = settings.DAILY_BONUS_CREDITS
    return credits > 0


def bonus_day(now: datetime) -> date:
    """The UTC day `now` falls on: the bonus renews at midnight UTC for everybody."""
    return now.astimezone(UTC).date()


def bonus_next_at(day: date) -> datetime:
    """When the bonus of the day after `day` becomes available."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def daily_bonus_reference(*, user_id: int, day: date) -> str:
    return f"daily_bonus:{user_id}:{day.isoformat()}"


def daily_bonus_claim(*, user: User) -> BonusClaimed:
    """Grant today's bonus. Raises NotFound when the bonus is off (DAILY_BONUS_CREDITS 0)
    and BonusAlreadyClaimed (`details.next_at`) on a second claim the same UTC day."""
    if not daily_bonus_enabled():
        raise NotFound()
    credits = settings.DAILY_BONUS_CREDITS
    now = timezone.now()
    day = bonus_day(now)
    next_at = bonus_next_at(day)
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = DailyBonusClaim.objects.create(user=user, day=day, credits=credits, created_at=now)
        except IntegrityError:
            raise BonusAlreadyClaimed(details={"next_at": next_at}) from None
        entry = credits_change(user_id=user.pk, amount=credits, kind=CreditKind.DAILY_BONUS,
                               reference=daily_bonus_reference(user_id=user.pk, day=day))
    logger.info("daily bonus of user %s for %s: %s credits", user.pk, day, credits)
    return BonusClaimed(claim=claim, credits=credits, balance=entry.balance_after, next_at=next_at)
