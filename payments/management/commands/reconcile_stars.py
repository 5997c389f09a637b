"""`python manage.py reconcile_stars [--days N] [--dry-run]`: Telegram's Stars
transactions of the last N days compared with the payments (payments.services.
reconciliation). Prints what it found and what it did; exits non-zero when Telegram
could not be read or another run is going on."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.telegram_api import TelegramApiError
from payments.services.reconciliation import Kind, ReconciliationBusy, ReconciliationReport, stars_reconcile

TITLES = {
    Kind.CREDIT: "paid to us, never credited",
    Kind.ISSUE: "paid for an invoice that is not ours",
    Kind.REFUND: "refunded by Telegram, not booked",
    Kind.AFFILIATE: "affiliate commissions not recorded",
}


class Command(BaseCommand):
    help = "Compare the bot's Telegram Stars transactions with the payments; credit, book or record what differs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.STARS_RECONCILE_DAYS,
                            help=f"How many days back to compare (default {settings.STARS_RECONCILE_DAYS}).")
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be done; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        if not settings.TELEGRAM_BOT_ENABLED:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: there are no Stars transactions to read.")
        try:
            report = stars_reconcile(days=days, dry_run=options["dry_run"])
        except ReconciliationBusy:
            raise CommandError("Another reconciliation is running; try again when it has finished.") from None
        except TelegramApiError as exc:
            raise CommandError(f"Telegram's Stars transactions could not be read: {exc}") from None
        self._print(report)

    def _print(self, report: ReconciliationReport) -> None:
        mode = " (dry run: nothing was written)" if report.dry_run else f" (run {report.run_id})"
        self.stdout.write(f"Stars transactions of the last {report.days} days: {report.transactions} read{mode}.")
        if not report.findings:
            self.stdout.write(self.style.SUCCESS("Nothing to reconcile: every charge and refund is booked."))
            return
        for kind in Kind.ALL:
            findings = report.of_kind(kind)
            if not findings:
                continue
            self.stdout.write(f"{TITLES[kind]}: {len(findings)}")
            for finding in findings:
                self.stdout.write(f"  - {finding.charge_id}: {finding.amount} Stars, Telegram user "
                                  f"{finding.telegram_user_id}, {finding.date} -> {finding.outcome}")
        if not report.dry_run:
            self.stdout.write(
                f"Credited {report.credited}, recorded for staff {report.issues}, left for staff {report.unresolved}."
            )
