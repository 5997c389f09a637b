"""Django-Q2 tasks of payments, run by the worker. Each only calls a service."""

from django.conf import settings

from payments.services.reconciliation import ReconciliationBusy, stars_reconcile


def stars_reconcile_daily() -> dict[str, int] | str:
    """Every day (schedule `payments: reconcile stars`): the last STARS_RECONCILE_DAYS
    days of Stars transactions against the payments."""
    if not settings.TELEGRAM_BOT_ENABLED:
        return "no bot token"
    try:
        report = stars_reconcile(days=settings.STARS_RECONCILE_DAYS)
    except ReconciliationBusy:
        return "another run was going on"
    return {"transactions": report.transactions, "credited": report.credited, "issues": report.issues,
            "unresolved": report.unresolved}
