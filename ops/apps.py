from typing import Any

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
        from django.db.models.signals import post_migrate

        from ops import checks  # noqa: F401 - registers the system checks

        post_migrate.connect(_staff_roles_sync, sender=self, dispatch_uid="ops.staff_roles_sync")


def _staff_roles_sync(sender: AppConfig, *, using: str, apps: Any = None, **kwargs: Any) -> None:
    """After every migrate (and test flush): the role groups as ops.roles defines them."""
    from django.apps import apps as installed_apps

    from ops.roles import staff_roles_sync

    # A flush sends no `apps`: the installed apps are the current state then.
    staff_roles_sync(apps=apps or installed_apps, using=using)
