"""Writes for accounts. This module is the only code that changes `User.credits`.

Every change of credits is one `CreditLedgerEntry` written in the same transaction
as the balance update, under the user's row lock, so the balance always equals
the ledger sum and can never go below zero (the database CHECK is the backstop).
"""

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.telegram_init_data import TelegramUser
from nanogen.errors import InsufficientCredits


def user_lock(*, user_id: int) -> User:
    """The user row, locked until the surrounding transaction ends.

    FOR NO KEY UPDATE (the lock PostgreSQL's own UPDATE of non-key columns takes):
    it serialises every writer of the user's credits and limits just as well, but
    does not block other transactions' rows that merely refer to the user (their
    foreign-key checks take KEY SHARE). Plain FOR UPDATE would turn such a writer
    racing a generation start into a deadlock instead of a unique-constraint loss.
    """
    return User.objects.select_for_update(no_key=True).get(pk=user_id)


def credits_apply(
    *,
    user: User,
    amount: int,
    kind: CreditKind,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
) -> CreditLedgerEntry:
    """Add (or with a negative amount, remove) credits of a user whose row the caller
    has locked with `user_lock` in the current transaction.

    Raises InsufficientCredits, changing nothing, when the balance would go below 0.
    """
    if amount == 0:
        raise ValueError("a ledger entry must change the balance")
    new_balance = user.credits + amount
    if new_balance < 0:
        raise InsufficientCredits(details={"balance": user.credits, "price": -amount})
    # F() keeps the write relative even though the row lock already serialises us:
    # the CHECK constraint then guards against any caller that forgot the lock.
    User.objects.filter(pk=user.pk).update(credits=F("credits") + amount)
    user.credits = new_balance
    return CreditLedgerEntry.objects.create(
        user=user,
        amount=amount,
        kind=kind,
        balance_after=new_balance,
        reference=reference,
        note=note[:255],
        created_by=created_by,
    )


def credits_change(
    *,
    user_id: int,
    amount: int,
    kind: CreditKind,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
    clamp_at_zero: bool = False,
) -> CreditLedgerEntry:
    """Change a user's credits in a transaction of its own (or the caller's).

    With `clamp_at_zero`, a removal larger than the balance removes the whole
    balance instead of failing; it still fails when the balance is already 0.
    """
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        if clamp_at_zero and amount < 0 and user.credits > 0:
            amount = max(amount, -user.credits)
        return credits_apply(
            user=user, amount=amount, kind=kind, reference=reference, note=note, created_by=created_by
        )


def user_from_telegram(*, telegram_user: TelegramUser) -> User:
    """The user behind a Telegram account, created on first sight and kept up to date.

    Costs one query when nothing changed. Creation grants SIGNUP_BONUS_CREDITS through
    the ledger in the same transaction, so the bonus is given exactly once even when
    two first requests race (the unique telegram_id decides who creates).
    """
    profile = {
        "username": telegram_user.username,
        "first_name": telegram_user.first_name,
        "last_name": telegram_user.last_name,
        "language_code": telegram_user.language_code,
        "is_premium": telegram_user.is_premium,
    }
    user = User.objects.filter(telegram_id=telegram_user.id).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create(
                    telegram_id=telegram_user.id, password=make_password(None), **profile
                )
                if settings.SIGNUP_BONUS_CREDITS > 0:
                    credits_apply(
                        user=user,
                        amount=settings.SIGNUP_BONUS_CREDITS,
                        kind=CreditKind.SIGNUP_BONUS,
                        reference=f"user:{user.pk}",
                    )
                return user
        except IntegrityError:
            user = User.objects.get(telegram_id=telegram_user.id)

    changed = [field for field, value in profile.items() if getattr(user, field) != value]
    if changed:
        for field in changed:
            setattr(user, field, profile[field])
        User.objects.filter(pk=user.pk).update(**{field: profile[field] for field in changed})
    return user


def user_set_banned(*, user: User, banned: bool) -> None:
    User.objects.filter(pk=user.pk).update(is_banned=banned)
    user.is_banned = banned


def user_set_reachable(*, user_id: int, reachable: bool) -> bool:
    """Record whether the bot can write to the user (False once they blocked it,
    True again when they talk to it). True when this changed the row."""
    return bool(User.objects.filter(pk=user_id).exclude(is_reachable=reachable).update(is_reachable=reachable))
