from django.contrib.admin.apps import AdminConfig


class NanoGenAdminConfig(AdminConfig):
    """Django's admin app with NanoGen's site, which adds the staff dashboard.

    Listed in INSTALLED_APPS instead of "django.contrib.admin" (Django's documented
    way to replace the default site); `admin.site` and `@admin.register` everywhere
    use this site.
    """

    default_site = "ops.admin_site.NanoGenAdminSite"
