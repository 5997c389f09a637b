from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


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
        audit_check_register("withdrawals", audit.withdrawals_match_earnings)
