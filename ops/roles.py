"""Staff roles: Django groups with exactly these permissions.

The groups are created by a data migration and given exactly this table's
permissions after every `migrate` (a post_migrate hook in OpsConfig), so a
permission added later (a new model, a new action) reaches the `admin` role by
itself. The table is the truth:
permissions added to these groups by hand in the admin are removed on the next
migrate; make other groups for one-off needs. Staff get a role by being put in its
group (the user's page in the admin); superusers need none.

- support: reads users, their ledger and generations (and whether the bot sent a
  result, and what the chat showed of one started there), their promo code redemptions
  and daily bonuses, and cancels-and-refunds a stuck generation;
- finance: money: payments and their refunds, unmatched payments, withdrawals,
  credit grants, refunds of bad results, credit packs, Stars subscriptions and
  reconciliations, promo codes (they give credits away), the revenue dashboard;
- admin: everything.
"""

from typing import Any

from django.db.models import Q

ALL = None
ROLES: dict[str, list[str] | None] = {
    "support": [
        "accounts.view_user",
        "accounts.view_creditledgerentry",
        "generations.view_aimodel",
        "generations.view_generation",
        "generations.cancel_generation",
        "telegram_bot.view_generationnotification",
        "telegram_bot.view_statusmessage",
        "promotions.view_promoredemption",
        "promotions.view_dailybonusclaim",
    ],
    "finance": [
        "accounts.view_user",
        "accounts.change_credits",
        "accounts.view_creditledgerentry",
        "generations.view_generation",
        "generations.refund_generation",
        "payments.view_creditpack",
        "payments.add_creditpack",
        "payments.change_creditpack",
        "payments.view_payment",
        "payments.refund_payment",
        "payments.view_paymentissue",
        "payments.resolve_paymentissue",
        "payments.view_withdrawal",
        "payments.decide_withdrawal",
        "payments.view_referralaccount",
        "payments.view_referralearningsentry",
        "payments.view_subscription",
        "payments.cancel_subscription",
        "payments.view_starsreconciliation",
        "ops.view_dashboard",
        "promotions.view_promocode",
        "promotions.add_promocode",
        "promotions.change_promocode",
        "promotions.view_promoredemption",
        "promotions.view_promoattempt",
        "promotions.view_dailybonusclaim",
    ],
    "admin": ALL,
}


def staff_roles_sync(*, apps: Any, using: str = "default") -> None:
    """Create the role groups and give each exactly its permissions. `apps` is an app
    registry (a migration's historical one, or the live one)."""
    from django.contrib.auth.management import create_permissions
    from django.db.migrations.state import AppConfigStub

    # Permissions are normally created after all migrations (post_migrate): make sure
    # every app's exist before they are granted.
    for app_config in apps.get_app_configs():
        # A migration's app configs (stubs) have no models module, and create_permissions
        # skips those: lend them one for the call (Django's documented recipe).
        stub = isinstance(app_config, AppConfigStub)
        if stub:
            app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, using=using, verbosity=0)
        finally:
            if stub:
                app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, permissions in ROLES.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        granted = permission_model.objects.using(using).all()
        if permissions is not ALL:
            wanted = Q()
            for permission in permissions:
                app_label, codename = permission.split(".")
                wanted |= Q(content_type__app_label=app_label, codename=codename)
            granted = granted.filter(wanted)
            missing = set(permissions) - {
                f"{app_label}.{codename}" for app_label, codename in granted.values_list(
                    "content_type__app_label", "codename")
            }
            if missing:
                raise LookupError(f"role {name!r} names unknown permissions: {', '.join(sorted(missing))}")
        group.permissions.set(granted)
