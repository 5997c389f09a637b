"""`audit_ledger`'s checks. Each app registers its own in `AppConfig.ready`, so
accounts never imports the apps above it; a check yields one line per problem."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import CreditLedgerEntry, LedgerEntry, User

AuditCheck = Callable[[], Iterable[str]]

_checks: dict[str, AuditCheck] = {}


def audit_check_register(name: str, check: AuditCheck) -> None:
    _checks[name] = check


def audit_run() -> dict[str, list[str]]:
    """Every registered check's problems, by check name (empty lists when all hold)."""
    return {name: list(check()) for name, check in _checks.items()}


def balance_ledger_mismatches(
    holders: QuerySet[Any],
    *,
    balance: str,
    ledger: type[LedgerEntry],
    holder_field: str,
    shown: tuple[str, ...] = ("pk",),
) -> Iterator[tuple[Any, ...]]:
    """Rule 1 of the money rules, for any ledger: each holder whose `balance` column is
    not the sum of their entries (none: 0). Yields the `shown` fields, the balance and
    the ledger sum; one statement, streamed."""
    ledger_sum = (
        ledger._default_manager.filter(**{holder_field: OuterRef("pk")})
        .order_by()
        .values(holder_field)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    yield from (
        holders.annotate(ledger_sum=Coalesce(Subquery(ledger_sum), 0))
        .exclude(**{balance: F("ledger_sum")})
        .values_list(*shown, balance, "ledger_sum")
        .iterator()
    )


def credits_match_ledger() -> Iterator[str]:
    mismatched = balance_ledger_mismatches(
        User.objects.all(), balance="credits", ledger=CreditLedgerEntry, holder_field="user",
        shown=("pk", "telegram_id"),
    )
    for pk, telegram_id, credits, total in mismatched:
        yield f"user {pk} (telegram {telegram_id}): balance {credits} != ledger sum {total}"
