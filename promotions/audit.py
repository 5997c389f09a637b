"""`audit_ledger` checks of promotions, registered in PromotionsConfig.ready.

Each redemption and each daily bonus claim has exactly one credit ledger entry of
its amount to its user (the ledger allows one per reference), no such entry exists
without one, and every code's counter equals its redemptions, within its cap.
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Concat, ExtractDay, ExtractMonth, ExtractYear, LPad

from accounts.models import CreditKind, CreditLedgerEntry
from promotions.models import DailyBonusClaim, PromoCode, PromoRedemption


def _text(expression: Combinable | str) -> Cast:
    return Cast(expression, CharField())


def _iso_date(field: str) -> Concat:
    """YYYY-MM-DD in SQL, whatever the server's DateStyle."""
    return Concat(
        _text(ExtractYear(field)), Value("-"),
        LPad(_text(ExtractMonth(field)), 2, Value("0")), Value("-"),
        LPad(_text(ExtractDay(field)), 2, Value("0")),
        output_field=CharField(),
    )


def _grant_annotations(kind: CreditKind) -> dict[str, Subquery]:
    grant = CreditLedgerEntry.objects.filter(kind=kind, reference=OuterRef("ledger_reference"))
    return {
        "granted": Subquery(grant.values("amount")[:1]),
        "granted_to": Subquery(grant.values("user_id")[:1]),
    }


def _mismatched(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.filter(Q(granted__isnull=True) | ~Q(granted=F("credits")) | ~Q(granted_to=F("user_id")))


def redemptions_match_grants() -> Iterator[str]:
    redemptions = PromoRedemption.objects.annotate(
        ledger_reference=Concat(Value("promo:"), _text("pk"), output_field=CharField()),
    ).annotate(**_grant_annotations(CreditKind.PROMO))
    for pk, credits, user_id, granted, granted_to in _mismatched(redemptions).values_list(
        "pk", "credits", "user_id", "granted", "granted_to"
    ).iterator():
        yield (f"promo redemption {pk} ({credits} credits to user {user_id}) has grant {granted} to user "
               f"{granted_to} instead of exactly one PROMO of {credits}")
    references = redemptions.values("ledger_reference")
    stray = CreditLedgerEntry.objects.filter(kind=CreditKind.PROMO).exclude(reference__in=references)
    for pk, reference, amount in stray.values_list("pk", "reference", "amount").iterator():
        yield f"credit ledger entry {pk}: PROMO of {amount} for {reference!r}, which is no redemption"
    counted = PromoCode.objects.annotate(
        redemption_count=Coalesce(
            Subquery(PromoRedemption.objects.filter(promo=OuterRef("pk")).order_by().values("promo")
                     .annotate(n=Count("pk")).values("n")),
            0,
        )
    ).filter(~Q(redeemed=F("redemption_count")) | Q(redemption_count__gt=F("max_redemptions")))
    for code, redeemed, count, cap in counted.values_list(
        "code", "redeemed", "redemption_count", "max_redemptions"
    ).iterator():
        yield f"promo code {code}: counter {redeemed}, {count} redemptions, cap {cap}"


def daily_bonus_claims_match_grants() -> Iterator[str]:
    claims = DailyBonusClaim.objects.annotate(
        ledger_reference=Concat(Value("daily_bonus:"), _text("user_id"), Value(":"), _iso_date("day"),
                                output_field=CharField()),
    ).annotate(**_grant_annotations(CreditKind.DAILY_BONUS))
    for pk, day, credits, user_id, granted, granted_to in _mismatched(claims).values_list(
        "pk", "day", "credits", "user_id", "granted", "granted_to"
    ).iterator():
        yield (f"daily bonus claim {pk} (user {user_id}, {day}, {credits} credits) has grant {granted} to user "
               f"{granted_to} instead of exactly one DAILY_BONUS of {credits}")
    references = claims.values("ledger_reference")
    stray = CreditLedgerEntry.objects.filter(kind=CreditKind.DAILY_BONUS).exclude(reference__in=references)
    for pk, reference, amount in stray.values_list("pk", "reference", "amount").iterator():
        yield f"credit ledger entry {pk}: DAILY_BONUS of {amount} for {reference!r}, which is no claim"
