"""Referrals: who invited whom.

A user is linked to a referrer at most once, and only while new: created less
than REFERRAL_LINK_MAX_AGE_HOURS ago and without any paid purchase. So an
existing customer cannot later hand their future purchases to a friend's link,
and nobody is ever re-linked. Never to oneself, never to the user one invited
(no two-person loop), never to a banned or staff-only account. The link is one
conditional UPDATE, so concurrent /start commands link at most one referrer.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from payments.models import Payment

logger = logging.getLogger(__name__)

START_PREFIX = "ref_"


def referral_link(*, referrer: User, new_user: User) -> bool:
    """Link `new_user` to `referrer`; False (nothing changed) when the rules refuse."""
    if referrer.pk == new_user.pk or referrer.telegram_id is None or referrer.is_banned:
        return False
    if referrer.referred_by_id == new_user.pk:
        return False
    cutoff = timezone.now() - timedelta(hours=settings.REFERRAL_LINK_MAX_AGE_HOURS)
    has_paid = Payment.objects.filter(user=OuterRef("pk"), status__in=Payment.PAID_STATUSES)
    linked = (
        User.objects.filter(pk=new_user.pk, referred_by__isnull=True, created_at__gte=cutoff)
        .exclude(Exists(has_paid))
        .update(referred_by=referrer)
    )
    if linked:
        new_user.referred_by = referrer
        logger.info("user %s linked to referrer %s", new_user.pk, referrer.pk)
    return bool(linked)


def referral_attach(*, user: User, code: str) -> bool:
    """Link `user` to the owner of a referral code (`ref_<code>` from /start, or the
    bare code); False for an unknown code or when `referral_link` refuses."""
    code = (code or "").strip()
    if code.lower().startswith(START_PREFIX):
        code = code[len(START_PREFIX):]
    code = code.lower()
    if not code or len(code) > 16:
        return False
    referrer = User.objects.filter(referral_code=code).first()
    if referrer is None:
        return False
    return referral_link(referrer=referrer, new_user=user)

