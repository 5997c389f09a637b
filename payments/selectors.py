"""Reads for payments, referrals and withdrawals."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from core.errors import NotFound
from payments.models import (
    CreditPack,
    EarningsKind,
    Payment,
    ReferralAccount,
    ReferralEarningsEntry,
    Subscription,
    Withdrawal,
)

REFERRAL_START_PREFIX = "ref_"


def pack_list_on_sale() -> QuerySet[CreditPack]:
    return CreditPack.objects.filter(is_active=True).order_by("sort_order", "stars", "id")


def payment_list_for_user(*, user: User) -> QuerySet[Payment]:
    """The user's payments, newest first (pending and failed ones included: the
    Mini App shows what happened to every purchase attempt)."""
    return Payment.objects.filter(user=user).select_related("pack").order_by("-id")


def payment_get_for_user(*, user: User, payment_id: int) -> Payment:
    payment = payment_list_for_user(user=user).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound()
    return payment


def subscription_list_for_user(*, user: User) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user).select_related("pack").order_by("-id")


def subscription_get_for_user(*, user: User, subscription_id: int) -> Subscription:
    """The user's subscription; NotFound for anybody else's (or none)."""
    if not 0 < subscription_id < 2**63:
        raise NotFound()
    subscription = subscription_list_for_user(user=user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound()
    return subscription


def subscription_state(subscription: Subscription, *, now: datetime | None = None) -> str:
    """active (renews), cancelled (no more renewals; the paid period may still run)
    or expired (the paid period is over)."""
    if subscription.expires_at <= (now or timezone.now()):
        return "expired"
    return str(subscription.status)


def withdrawal_list_for_user(*, user: User) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(user=user).order_by("-id")


def referral_invite_link(*, user: User) -> str | None:
    """https://t.me/<bot>?start=ref_<code>, or None while TELEGRAM_BOT_USERNAME is unset."""
    if not settings.TELEGRAM_BOT_USERNAME:
        return None
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={REFERRAL_START_PREFIX}{user.referral_code}"


def referral_summary(*, user: User) -> dict[str, Any]:
    """What the Mini App's referral screen shows. Amounts are whole Stars."""
    account = ReferralAccount.objects.filter(pk=user.pk).first()
    earned = ReferralEarningsEntry.objects.filter(
        account_id=user.pk,
        kind__in=[EarningsKind.COMMISSION, EarningsKind.COMMISSION_REVERSAL, EarningsKind.COMMISSION_REVERSAL_UNDONE],
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    withdrawals = Withdrawal.objects.filter(user=user).aggregate(
        withdrawn=Coalesce(Sum("amount", filter=Q(status=Withdrawal.Status.PAID)), 0),
        pending=Coalesce(Sum("amount", filter=Q(status=Withdrawal.Status.PENDING)), 0),
    )
    invited = User.objects.filter(referred_by=user).count()
    paying = (
        User.objects.filter(referred_by=user, payments__status__in=Payment.PAID_STATUSES).distinct().count()
    )
    return {
        "code": user.referral_code,
        "link": referral_invite_link(user=user),
        "invited": invited,
        "invited_paying": paying,
        "earnings": account.earnings if account else 0,
        "earned_total": earned,
        "withdrawn_total": withdrawals["withdrawn"],
        "pending_withdrawal": withdrawals["pending"],
        "percent": settings.REFERRAL_PERCENT,
        "withdrawal_min_amount": settings.WITHDRAWAL_MIN_AMOUNT,
        "currency": "XTR",
    }
