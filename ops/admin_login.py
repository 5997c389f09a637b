"""The admin's login: password, then a TOTP code for staff who need one.

A staff member with a confirmed TOTP device always gives its code (two-factor login
is opt-in per person); with STAFF_REQUIRE_2FA every staff member needs a device,
and the admin site lets in only sessions verified by one (`NanoGenAdminSite`).
Failed passwords are counted by django-axes (settings), before this form runs.
"""

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm


def staff_needs_otp(user: Any) -> bool:
    return bool(settings.STAFF_REQUIRE_2FA or user_has_device(user, confirmed=True))


class StaffLoginForm(OTPAdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        # The password (and is_staff) first, as the plain admin form checks them ...
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        # ... then the code, for those who need one (OTPAdminAuthenticationForm asks everyone).
        if user is not None and staff_needs_otp(user):
            self.clean_otp(user)
        return self.cleaned_data
