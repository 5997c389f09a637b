"""`audit_ledger`'s checks. Each app registers its own in `AppConfig.ready`, so
accounts never imports the apps above it; a check yields one line per problem."""

from collections.abc import Callable, Iterable, Iterator

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import CreditLedgerEntry, User

AuditCheck = Callable[[], Iterable[str]]

_checks: dict[str, AuditCheck] = {}


def audit_check_register(name: str, check: AuditCheck) -> None:
    _checks[name] = check


def audit_run() -> dict[str, list[str]]:
    """Every registered check's problems, by check name (empty lists when all hold)."""
    return {name: list(check()) for name, check in _checks.items()}


def credits_match_ledger() -> Iterator[str]:
    ledger_sum = (
        CreditLedgerEntry.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    mismatched = (
        User.objects.annotate(ledger_sum=Coalesce(Subquery(ledger_sum), 0))
        .exclude(credits=F("ledger_sum"))
        .values_list("pk", "telegram_id", "credits", "ledger_sum")
        .iterator()
    )
    for pk, telegram_id, credits, total in mismatched:
        yield f"user {pk} (telegram {telegram_id}): balance {credits} != ledger sum {total}"
