"""`audit_ledger` checks of the money side, registered in PaymentsConfig.ready.

Each yields one line per problem: earnings against their ledger, every paid
payment against its one credit grant, every refund against its reversal, every
subscription against its payments, every commission and withdrawal against its
earnings entries.
"""

from collections.abc import Iterator

from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat

from accounts.audit import balance_ledger_mismatches
from accounts.models import CreditKind, CreditLedgerEntry
from payments.models import EarningsKind, Payment, ReferralAccount, ReferralEarningsEntry, Subscription, Withdrawal


def _reference_of(prefix: str) -> Concat:
    return Concat(Value(prefix), Cast("pk", CharField()), output_field=CharField())


def _of_payment(reference: str = "ledger_reference") -> Q:
    """Ledger rows of a payment: reference `payment:<id>`, or `payment:<id>:<n>` (the
    n-th try at refunding it)."""
    return Q(reference=OuterRef(reference)) | Q(reference__startswith=Concat(OuterRef(reference), Value(":")))


def _credit_sum(*kinds: CreditKind) -> Subquery:
    return Subquery(
        CreditLedgerEntry.objects.filter(_of_payment(), kind__in=kinds)
        .order_by()
        .annotate(group=Value(1))
        .values("group")
        .annotate(total=Sum("amount"))
        .values("total")
    )


def _earnings_sum(kind: EarningsKind, reference: str = "ledger_reference") -> Subquery:
    return Subquery(
        ReferralEarningsEntry.objects.filter(kind=kind, reference=OuterRef(reference))
        .order_by()
        .values("reference")
        .annotate(total=Sum("amount"))
        .values("total")
    )


def _reversal_sum(*kinds: EarningsKind) -> Subquery:
    return Subquery(
        ReferralEarningsEntry.objects.filter(_of_payment(), kind__in=kinds)
        .order_by()
        .annotate(group=Value(1))
        .values("group")
        .annotate(total=Sum("amount"))
        .values("total")
    )


def earnings_match_ledger() -> Iterator[str]:
    mismatched = balance_ledger_mismatches(
        ReferralAccount.objects.all(), balance="earnings", ledger=ReferralEarningsEntry, holder_field="account"
    )
    for user_id, earnings, total in mismatched:
        yield f"referral account of user {user_id}: earnings {earnings} != ledger sum {total}"


def payments_match_grants() -> Iterator[str]:
    grant = CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE, reference=OuterRef("ledger_reference"))
    payments = Payment.objects.annotate(
        ledger_reference=_reference_of("payment:"),
        granted=Subquery(grant.values("amount")[:1]),
        granted_to=Subquery(grant.values("user_id")[:1]),
    )
    paid = payments.filter(status__in=Payment.PAID_STATUSES).filter(
        Q(granted__isnull=True) | ~Q(granted=F("credits")) | ~Q(granted_to=F("user_id"))
    )
    for pk, status, credits, granted, granted_to, user_id in paid.values_list(
        "pk", "status", "credits", "granted", "granted_to", "user_id"
    ).iterator():
        yield (
            f"payment {pk} ({status}, {credits} credits to user {user_id}) has grant {granted} "
            f"to user {granted_to} instead of exactly one PURCHASE of {credits}"
        )
    unpaid = payments.exclude(status__in=Payment.PAID_STATUSES).filter(granted__isnull=False)
    for pk, status, granted in unpaid.values_list("pk", "status", "granted").iterator():
        yield f"payment {pk} is {status} but granted {granted} credits"
    paid_references = payments.filter(status__in=Payment.PAID_STATUSES).values("ledger_reference")
    stray = CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE).exclude(reference__in=paid_references)
    for pk, reference, amount in stray.values_list("pk", "reference", "amount").iterator():
        yield f"credit ledger entry {pk}: PURCHASE of {amount} for {reference!r}, which is no paid payment"


def refunds_match_reversals() -> Iterator[str]:
    """What a refund took back (or holds, while `refunding`) is what its payment
    records, net of tries that Telegram refused; a payment that is not being or was
    not refunded has nothing taken back; and a refund took back every credit of the
    payment unless staff chose "refund anyway"."""
    payments = Payment.objects.annotate(
        ledger_reference=_reference_of("payment:"),
        credits_reversed=Coalesce(_credit_sum(CreditKind.PURCHASE_REFUND, CreditKind.PURCHASE_REFUND_UNDONE), 0),
        commission=Coalesce(_earnings_sum(EarningsKind.COMMISSION), 0),
        commission_reversed=Coalesce(
            _reversal_sum(EarningsKind.COMMISSION_REVERSAL, EarningsKind.COMMISSION_REVERSAL_UNDONE), 0
        ),
    )
    refund_states = [Payment.Status.REFUNDING, Payment.Status.REFUNDED]
    refunded = payments.filter(status__in=refund_states).filter(
        ~Q(credits_reversed=-F("refund_credits_removed")) | ~Q(commission_reversed=-F("refund_earnings_reversed"))
    )
    for pk, status, removed, reversed_credits, earnings, reversed_earnings in refunded.values_list(
        "pk", "status", "refund_credits_removed", "credits_reversed", "refund_earnings_reversed", "commission_reversed"
    ).iterator():
        yield (
            f"{status} payment {pk}: recorded {removed} credits / {earnings} Stars of commission taken back, "
            f"ledgers show {-reversed_credits} / {-reversed_earnings}"
        )
    short = payments.filter(status=Payment.Status.REFUNDED, refund_forced=False).exclude(
        refund_credits_removed=F("credits")
    )
    for pk, removed, credits in short.values_list("pk", "refund_credits_removed", "credits").iterator():
        yield (
            f"refunded payment {pk}: only {removed} of its {credits} credits were taken back, "
            f"although the refund was not forced (\"refund anyway\")"
        )
    not_refunded = payments.exclude(status__in=refund_states).filter(
        ~Q(credits_reversed=0) | ~Q(commission_reversed=0)
    )
    for pk, status in not_refunded.values_list("pk", "status").iterator():
        yield f"payment {pk} is {status} but has refund entries in a ledger"
    over = payments.filter(commission_reversed__lt=-F("commission"))
    for pk, commission, reversed_earnings in over.values_list("pk", "commission", "commission_reversed").iterator():
        yield f"payment {pk}: commission {commission} but {-reversed_earnings} reversed"
    paid_references = payments.filter(status__in=Payment.PAID_STATUSES).values("ledger_reference")
    stray = ReferralEarningsEntry.objects.filter(kind=EarningsKind.COMMISSION).exclude(
        reference__in=paid_references
    )
    for pk, reference in stray.values_list("pk", "reference").iterator():
        yield f"earnings entry {pk}: commission for {reference!r}, which is no paid payment"


def subscriptions_match_payments() -> Iterator[str]:
    """A subscription grants once per charge: each of its charges is a paid payment of
    its own (the first and every renewal; the charge id is unique, and
    `payments_match_grants` checks each payment's one grant), for the subscription's
    user, payload, Stars and credits; and its first charge is among them."""
    theirs = Payment.objects.filter(subscription__isnull=False)
    stray = theirs.exclude(
        user_id=F("subscription__user_id"), invoice_payload=F("subscription__invoice_payload"),
        stars=F("subscription__stars"), credits=F("subscription__credits"),
    )
    for pk, subscription_id in stray.values_list("pk", "subscription_id").iterator():
        yield (f"payment {pk} of subscription {subscription_id} differs from it in user, payload, Stars or "
               f"credits")
    for pk, subscription_id, status in theirs.exclude(status__in=Payment.PAID_STATUSES).values_list(
        "pk", "subscription_id", "status"
    ).iterator():
        yield f"payment {pk} of subscription {subscription_id} is {status}, not paid"
    first = Payment.objects.filter(subscription=OuterRef("pk"),
                                   telegram_payment_charge_id=OuterRef("telegram_payment_charge_id"))
    for pk, charge_id in Subscription.objects.filter(~Exists(first)).values_list(
        "pk", "telegram_payment_charge_id"
    ).iterator():
        yield f"subscription {pk}: no payment of its first charge {charge_id}"


def withdrawals_match_earnings() -> Iterator[str]:
    withdrawals = Withdrawal.objects.annotate(
        ledger_reference=_reference_of("withdrawal:"),
        held=Coalesce(_earnings_sum(EarningsKind.WITHDRAWAL_HOLD), 0),
        returned=Coalesce(_earnings_sum(EarningsKind.WITHDRAWAL_RETURN), 0),
        held_from=Subquery(
            ReferralEarningsEntry.objects.filter(
                kind=EarningsKind.WITHDRAWAL_HOLD, reference=OuterRef("ledger_reference")
            ).values("account_id")[:1]
        ),
    )
    wrong_hold = withdrawals.filter(~Q(held=-F("amount")) | ~Q(held_from=F("user_id")))
    for pk, amount, held in wrong_hold.values_list("pk", "amount", "held").iterator():
        yield f"withdrawal {pk} of {amount} Stars: held {-held} from the requester's earnings"
    wrong_return = withdrawals.filter(
        (Q(status=Withdrawal.Status.REJECTED) & ~Q(returned=F("amount")))
        | (~Q(status=Withdrawal.Status.REJECTED) & ~Q(returned=0))
    )
    for pk, status, amount, returned in wrong_return.values_list("pk", "status", "amount", "returned").iterator():
        yield f"withdrawal {pk} ({status}, {amount} Stars): {returned} Stars returned"
