from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import InsufficientCredits
from accounts.models import CreditKind, User
from accounts.services import CREDITS_CHANGE_MAX, credits_change


class Command(BaseCommand):
    help = "Add credits to a user (or remove them with a negative amount, never below 0) through the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("telegram_id", type=int)
        parser.add_argument("amount", type=int, help="credits to add; negative removes")
        parser.add_argument("--reason", required=True, help="why, kept in the ledger")

    def handle(self, *args: Any, telegram_id: int, amount: int, reason: str, **options: Any) -> None:
        reason = reason.strip()
        if not reason:
            raise CommandError("--reason must not be empty.")
        if amount == 0:
            raise CommandError("The amount must not be 0.")
        if abs(amount) > CREDITS_CHANGE_MAX:
            raise CommandError(f"The amount must be between -{CREDITS_CHANGE_MAX} and {CREDITS_CHANGE_MAX}.")
        user = User.objects.filter(telegram_id=telegram_id).first()
        if user is None:
            raise CommandError(f"No user with Telegram id {telegram_id}.")
        try:
            entry = credits_change(
                user_id=user.pk,
                amount=amount,
                kind=CreditKind.GRANT,
                reference="command:grant_credits",
                note=reason,
                clamp_at_zero=True,
            )
        except InsufficientCredits:
            raise CommandError(f"{user} has no credits to remove.") from None
        if entry.amount != amount:
            self.stdout.write(
                self.style.WARNING(
                    f"Removed {-entry.amount} of the {-amount} requested: the balance cannot go below 0."
                )
            )
        self.stdout.write(self.style.SUCCESS(f"{user}: {entry.amount:+d} credits, balance {entry.balance_after}."))
