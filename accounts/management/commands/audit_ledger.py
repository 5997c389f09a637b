from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import audit_run


class Command(BaseCommand):
    help = "Check every balance against its ledger and every money rule; exit non-zero on any problem."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = 0
        for check, found in audit_run().items():
            if found:
                problems += len(found)
                self.stdout.write(self.style.ERROR(f"{check}: {len(found)} problem(s)"))
                for line in found:
                    self.stdout.write(f"  - {line}")
            else:
                self.stdout.write(self.style.SUCCESS(f"{check}: ok"))
        if problems:
            raise CommandError(f"audit_ledger found {problems} problem(s).")
        self.stdout.write(self.style.SUCCESS("All money rules hold."))
