"""Redeeming a promo code: once per user, never beyond the code's cap, attempts rate-limited.

Two transactions. The first records the attempt under the user's row lock after
counting the user's attempts in the window, so concurrent tries of one user are
counted exactly and a refused one is never recorded; it commits whatever the code
turns out to be, so failed guesses count. The second is the redemption:

1. insert the redemption (the unique (promo, user) pair refuses a second one; a
   concurrent repeat by the same user waits on the first one's row and then fails);
2. grant the credits through the ledger (`promo:<redemption id>`, once per reference),
   under the user's row lock;
3. count it: one conditional UPDATE `redeemed < max_redemptions` of the code's row,
   last, so the hot row of a popular code stays locked only until the commit. Under
   READ COMMITTED a waiting UPDATE re-checks the condition on the row's newest
   version, so however many requests race, exactly `max_redemptions` succeed;
   a refused one raises and the rollback takes back steps 1 and 2.

Every transaction takes the user's row before the code's, so they cannot deadlock.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CreditKind, User
from accounts.services import credits_change, user_lock
from core.errors import DomainError, ValidationFailed
from promotions.errors import PromoAlreadyRedeemed, PromoExhausted, PromoNotFound, PromoRateLimited
from promotions.models import PROMO_CODE_PATTERN, PromoAttempt, PromoCode, PromoRedemption, promo_code_normalise

logger = logging.getLogger(__name__)

# What a user may type: longer input is a validation error, not an attempt.
PROMO_INPUT_MAX_LENGTH = 64
# Attempts are kept this long for staff, then pruned as the user tries again.
ATTEMPTS_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class PromoRedeemed:
    redemption: PromoRedemption
    credits: int
    balance: int


def promo_reference(redemption_id: int) -> str:
    return f"promo:{redemption_id}"


def _redeemable(now: datetime) -> Q:
    return Q(is_active=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def promo_redeem(*, user: User, code: str) -> PromoRedeemed:
    """Grant the code's credits to `user`.

    Raises ValidationFailed (blank or overlong input), PromoRateLimited (too many
    attempts in the window; Retry-After), PromoNotFound (unknown, inactive, expired),
    PromoAlreadyRedeemed, PromoExhausted.
    """
    normalised = promo_code_normalise(code)
    if not normalised:
        raise ValidationFailed(details={"code": [_("This field may not be blank.")]})
    if len(normalised) > PROMO_INPUT_MAX_LENGTH:
        raise ValidationFailed(
            details={"code": [_("Ensure this field has no more than %(max)d characters.") % {
                "max": PROMO_INPUT_MAX_LENGTH}]}
        )
    now = timezone.now()
    promo_attempt_record(user_id=user.pk, code=normalised, now=now)

    promo = PromoCode.objects.filter(_redeemable(now), code=normalised).first() if PROMO_CODE_PATTERN.match(
        normalised) else None
    if promo is None:
        raise PromoNotFound()
    # Cheap answers first; the unique pair and the conditional UPDATE below decide races.
    if PromoRedemption.objects.filter(promo=promo, user=user).exists():
        raise PromoAlreadyRedeemed()
    if promo.redeemed >= promo.max_redemptions:
        raise PromoExhausted()

    with transaction.atomic():
        try:
            with transaction.atomic():
                redemption = PromoRedemption.objects.create(promo=promo, user=user, credits=promo.credits,
                                                            created_at=now)
        except IntegrityError:
            raise PromoAlreadyRedeemed() from None
        entry = credits_change(user_id=user.pk, amount=promo.credits, kind=CreditKind.PROMO,
                               reference=promo_reference(redemption.pk), note=promo.code)
        counted = PromoCode.objects.filter(_redeemable(now), pk=promo.pk, redeemed__lt=F("max_redemptions")).update(
            redeemed=F("redeemed") + 1, updated_at=now
        )
        if not counted:
            raise _refusal_after_race(promo_id=promo.pk, now=now)
    logger.info("promo %s redeemed by user %s: %s credits", promo.code, user.pk, promo.credits,
                extra={"promo_redemption_id": redemption.pk})
    return PromoRedeemed(redemption=redemption, credits=promo.credits, balance=entry.balance_after)


def _refusal_after_race(*, promo_id: int, now: datetime) -> DomainError:
    """Why the counting UPDATE matched nothing: the code ran out, or staff switched
    it off (or it expired) since it was read."""
    if PromoCode.objects.filter(_redeemable(now), pk=promo_id).exists():
        return PromoExhausted()
    return PromoNotFound()


def promo_attempt_record(*, user_id: int, code: str, now: datetime) -> None:
    """Count an attempt against PROMO_RATE_LIMIT_ATTEMPTS per PROMO_RATE_LIMIT_WINDOW_SECONDS,
    or raise PromoRateLimited (with Retry-After: when the oldest counted attempt leaves
    the window) without recording it."""
    limit = settings.PROMO_RATE_LIMIT_ATTEMPTS
    window = timedelta(seconds=settings.PROMO_RATE_LIMIT_WINDOW_SECONDS)
    with transaction.atomic():
        # The user's row lock serialises their attempts: N concurrent tries cannot all
        # count N-1 before them and all pass.
        user_lock(user_id=user_id)
        recent = list(
            PromoAttempt.objects.filter(user_id=user_id, created_at__gt=now - window)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            retry_after = max(1, int((recent[-1] + window - now).total_seconds() + 0.999))
            logger.warning("promo attempts of user %s rate-limited", user_id)
            raise PromoRateLimited(headers={"Retry-After": str(retry_after)}, details={"retry_after": retry_after})
        PromoAttempt.objects.create(user_id=user_id, code=code[:PROMO_INPUT_MAX_LENGTH], created_at=now)
        PromoAttempt.objects.filter(user_id=user_id, created_at__lt=now - max(window, ATTEMPTS_KEEP)).delete()


# --- staff ------------------------------------------------------------------------------------

# What staff edit on a code; `redeemed` is never among them.
PROMO_CODE_STAFF_FIELDS = ["code", "credits", "max_redemptions", "expires_at", "is_active", "note"]


def promo_code_save(*, promo: PromoCode, created_by: User | None = None) -> bool:
    """Create a code (redeemed 0), or write staff's edit of one. False, writing nothing,
    when the new cap is below what was redeemed meanwhile.

    The edit is an UPDATE of the staff fields only, conditional on the cap: saving the
    whole row would write back the `redeemed` read when the form was opened and lose
    the redemptions made since.
    """
    promo.code = promo_code_normalise(promo.code)
    if promo._state.adding:
        promo.created_by = created_by
        promo.redeemed = 0
        promo.save()
        return True
    values = {field: getattr(promo, field) for field in PROMO_CODE_STAFF_FIELDS}
    return bool(
        PromoCode.objects.filter(pk=promo.pk, redeemed__lte=promo.max_redemptions).update(
            **values, updated_at=timezone.now()
        )
    )
