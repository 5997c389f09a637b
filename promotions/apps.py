from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("Promotions")

    def ready(self) -> None:
        from accounts.audit import audit_check_register
        from promotions import audit

        audit_check_register("promo redemptions", audit.redemptions_match_grants)
        audit_check_register("daily bonus claims", audit.daily_bonus_claims_match_grants)
