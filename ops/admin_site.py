from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _


class NanoGenAdminSite(admin.AdminSite):
    """The admin with the staff dashboard at /admin/dashboard/, linked from the index,
    and two-factor login (ops.admin_login)."""

    site_header = _("NanoGen administration")
    site_title = _("NanoGen admin")
    index_template = "admin/ops/index.html"
    # django-otp's admin login page: the password form plus the device and code fields.
    login_template = "otp/admin111/login.html"

    @property
    # A property, as Django reads `login_form` as an attribute; the import waits for the apps.
    def login_form(self) -> type:  # type: ignore[override]
        from ops.admin_login import StaffLoginForm

        return StaffLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff, and with STAFF_REQUIRE_2FA only in a session verified by a TOTP code."""
        if not super().has_permission(request):
            return False
        # django-otp's middleware gives the request's user `is_verified()`.
        is_verified = getattr(request.user, "is_verified", None)
        return not settings.STAFF_REQUIRE_2FA or (callable(is_verified) and bool(is_verified()))

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from ops.admin_views import dashboard_view

        return [
            # Staff only (admin_view), and of them only those with ops.view_dashboard
            # (the view checks it): revenue is not for every staff member.
            path("dashboard/", self.admin_view(dashboard_view), name="dashboard"),
            *super().get_urls(),
        ]
