from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

RECONCILE_SCHEDULE_NAME = "payments: reconcile stars"


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments and referrals")

    def ready(self) -> None:
        from django.core import checks

        from accounts.audit import audit_check_register
        from payments import audit
        from payments.checks import payments_settings_check

        checks.register(payments_settings_check)
        audit_check_register("referral earnings", audit.earnings_match_ledger)
        audit_check_register("payment grants", audit.payments_match_grants)
        audit_check_register("payment refunds", audit.refunds_match_reversals)
        audit_check_register("subscriptions", audit.subscriptions_match_payments)
        audit_check_register("withdrawals", audit.withdrawals_match_earnings)
        # After every migrate: exactly one daily reconciliation with Telegram's Stars transactions.
        post_migrate.connect(_reconcile_schedule_ensure, sender=self, dispatch_uid="payments.reconcile_schedule")


def _reconcile_schedule_ensure(using: str = "default", **kwargs: Any) -> None:
    from django_q.models import Schedule

    from core.scheduling import schedule_ensure, schedule_table_exists
    from core.task_names import STARS_RECONCILE_DAILY

    if schedule_table_exists(using=using):
        schedule_ensure(name=RECONCILE_SCHEDULE_NAME, func=STARS_RECONCILE_DAILY, using=using,
                        schedule_type=Schedule.DAILY)
