from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"

    def ready(self) -> None:
        from accounts.audit import audit_check_register
        from generations.services.staff_refund import generation_staff_refunds_audit

        audit_check_register("generation staff refunds", generation_staff_refunds_audit)
