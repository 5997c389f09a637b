from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: the Prometheus endpoint, HTTP metrics and the staff dashboard.

    It sits above every other app (it reads generations, the ledger and payments)
    and nothing imports it.
    """

    name = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from ops import checks  # noqa: F401 - registers the system checks
