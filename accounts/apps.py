from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401 - registers the OpenAPI auth scheme
        from accounts.audit import audit_check_register, credits_match_ledger

        audit_check_register("credits", credits_match_ledger)
