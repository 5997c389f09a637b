from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffDashboard(models.Model):
    """Not a table: the holder of the staff dashboard's permission.

    ops has no data of its own, but a Django permission belongs to a model's content
    type. An unmanaged model without default permissions gives the dashboard exactly
    one, `ops.view_dashboard`, created and granted like any other (and kept by
    `remove_stale_contenttypes`, which a hand-made content type would not be).
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_dashboard", _("Can view the revenue dashboard"))]
        verbose_name = _("staff dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
