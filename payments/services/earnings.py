"""The only code that changes `ReferralAccount.earnings`.

Like credits: every change is a `ReferralEarningsEntry` written in the same
transaction as the balance update, under the account's row lock; the CHECK
constraints and the unique (kind, reference) are the database's backstop.
"""

from django.db.models import F
from django.utils import timezone

from accounts.models import User
from payments.errors import InsufficientEarnings
from payments.models import EarningsKind, ReferralAccount, ReferralEarningsEntry


def referral_account_lock(*, user_id: int) -> ReferralAccount:
    """The user's referral account (created on first use), locked until the transaction ends."""
    account = ReferralAccount.objects.select_for_update().filter(pk=user_id).first()
    if account is None:
        # Two first uses may race: ON CONFLICT DO NOTHING lets both through, and
        # the lock below then serialises them on the one row.
        ReferralAccount.objects.bulk_create([ReferralAccount(user_id=user_id)], ignore_conflicts=True)
        account = ReferralAccount.objects.select_for_update().get(pk=user_id)
    return account


def earnings_apply(
    *,
    account: ReferralAccount,
    amount: int,
    kind: EarningsKind,
    reference: str,
    note: str = "",
    created_by: User | None = None,
) -> ReferralEarningsEntry:
    """Add (or remove, with a negative amount) earnings of an account the caller
    locked with `referral_account_lock`. Raises InsufficientEarnings, changing
    nothing, when the balance would go below 0."""
    if amount == 0:
        raise ValueError("an earnings entry must change the balance")
    new_balance = account.earnings + amount
    if new_balance < 0:
        raise InsufficientEarnings(details={"earnings": account.earnings, "amount": -amount})
    ReferralAccount.objects.filter(pk=account.pk).update(earnings=F("earnings") + amount, updated_at=timezone.now())
    account.earnings = new_balance
    return ReferralEarningsEntry.objects.create(
        account=account,
        amount=amount,
        kind=kind,
        balance_after=new_balance,
        reference=reference,
        note=note[:255],
        created_by=created_by,
    )
