"""Staff pages of Stars subscriptions and reconciliations (registered by
payments.admin). Subscriptions are read-only but for the cancel action, which
needs its own permission (cancel_subscription) and calls the same service as the
user's cancel; reconciliations are the reports of `reconcile_stars`."""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import staff_user
from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, staff_action, staff_permission
from core.errors import DomainError
from payments import selectors, services
from payments.models import Payment, StarsReconciliation, Subscription


class SubscriptionPaymentInline(ReadOnlyTabularInline[Payment, Subscription]):
    model = Payment
    fields = readonly_fields = ("id", "paid_at", "stars", "credits", "status", "telegram_payment_charge_id")
    ordering = ["-id"]
    verbose_name_plural = _("Payments (the first and every renewal)")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin[Subscription]):
    list_display = ["id", "user", "pack", "stars", "credits", "state", "expires_at", "created_at", "cancelled_at"]
    list_filter = ["status", "pack", "created_at"]
    search_fields = ["=id", "=user__telegram_id", "user__username", "=telegram_payment_charge_id"]
    list_select_related = ["user", "pack"]
    date_hierarchy = "created_at"
    inlines = [SubscriptionPaymentInline]
    actions = ["cancel"]

    @admin.display(description=_("state"))
    def state(self, subscription: Subscription) -> str:
        return selectors.subscription_state(subscription)

    has_cancel_subscription_permission = staff_permission("payments.cancel_subscription")

    @staff_action(permission="payments.cancel_subscription",
                  description=_("Cancel: no more renewals (the paid period stays)"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            try:
                services.subscription_cancel(subscription_id=subscription.pk, staff=staff_user(request))
            except DomainError as exc:
                self.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, gettext("%(subscription)s cancelled.") % {"subscription": subscription})


@admin.register(StarsReconciliation)
class StarsReconciliationAdmin(ReadOnlyAdmin[StarsReconciliation]):
    list_display = ["id", "started_at", "status", "days", "transactions", "credited", "issues", "refunds",
                    "affiliate_commissions", "unresolved", "error"]
    list_filter = ["status", "started_at"]
    exclude = ["report"]
    readonly_fields = ["findings"]

    @admin.display(description=_("findings"))
    def findings(self, run: StarsReconciliation) -> str:
        return format_html("<pre>{}</pre>", json.dumps(run.report.get("findings", []), indent=2, ensure_ascii=False))
