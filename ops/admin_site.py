from django.contrib import admin
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _


class NanoGenAdminSite(admin.AdminSite):
    """The admin with the staff dashboard at /admin/dashboard/, linked from the index."""

    site_header = _("NanoGen administration")
    site_title = _("NanoGen admin")
    index_template = "admin/ops/index.html"

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from ops.admin_views import dashboard_view

        return [
            # Staff only (admin_view), and of them only those with ops.view_dashboard
            # (the view checks it): revenue is not for every staff member.
            path("dashboard/", self.admin_view(dashboard_view), name="dashboard"),
            *super().get_urls(),
        ]
