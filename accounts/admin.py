from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import staff_user
from accounts.errors import InsufficientCredits
from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.services import credits_change, user_set_banned
from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, admin_action_form


class CreditsChangeForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount"), help_text=_("Positive grants credits, negative removes them."))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("The amount cannot be 0."))
        return amount


class CreditLedgerInline(ReadOnlyTabularInline[CreditLedgerEntry, User]):
    model = CreditLedgerEntry
    fk_name = "user"
    fields = ("created_at", "kind", "amount", "balance_after", "reference", "note", "created_by")
    readonly_fields = fields
    ordering = ["-id"]
    verbose_name_plural = _("Latest credit ledger entries")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditLedgerEntry]:
        return super().get_queryset(request).select_related("created_by")


@admin.register(User)
class UserAdmin(DjangoUserAdmin[Any]):  # django-stubs bind it to AbstractUser; ours is an AbstractBaseUser
    list_display = ["__str__", "telegram_id", "username", "credits", "language_code", "is_banned", "is_staff",
                    "created_at"]
    list_filter = ["is_banned", "is_staff", "is_reachable", "is_premium", "language_code", "created_at"]
    search_fields = ["=telegram_id", "username", "first_name", "email", "=referral_code"]
    ordering = ["-id"]
    readonly_fields = ["credits", "referral_code", "created_at", "updated_at", "last_login"]
    raw_id_fields = ["referred_by"]
    actions = ["ban", "unban", "change_credits"]
    inlines = [CreditLedgerInline]
    fieldsets = [
        (None, {"fields": ["telegram_id", "username", "first_name", "last_name", "language_code", "is_premium"]}),
        (_("Money"), {"fields": ["credits", "referral_code", "referred_by"]}),
        (_("Status"), {"fields": ["is_banned", "is_reachable", "created_at", "updated_at"]}),
        (_("Staff"), {"fields": ["email", "password", "is_active", "is_staff", "is_superuser", "groups",
                                 "user_permissions", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2", "is_staff"]})]

    @admin.action(description=_("Ban selected users"))
    def ban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_set_banned(user=user, banned=True)
        self.message_user(request, _("Banned %(count)d users.") % {"count": len(queryset)})

    @admin.action(description=_("Unban selected users"))
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_set_banned(user=user, banned=False)
        self.message_user(request, _("Unbanned %(count)d users.") % {"count": len(queryset)})

    @admin.action(description=_("Grant or remove credits"))
    def change_credits(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        def apply(user: User, data: dict[str, Any]) -> None:
            amount = data["amount"]
            staff = staff_user(request)
            try:
                entry = credits_change(
                    user_id=user.pk,
                    amount=amount,
                    kind=CreditKind.GRANT,
                    reference=f"staff:{staff.pk}",
                    note=data["reason"],
                    created_by=staff,
                )
            except InsufficientCredits:
                self.message_user(
                    request,
                    _("%(user)s has fewer than %(amount)d credits; nothing was removed.")
                    % {"user": user, "amount": -amount},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _("%(user)s: %(amount)+d credits, balance %(balance)d.")
                    % {"user": user, "amount": entry.amount, "balance": entry.balance_after},
                )

        return admin_action_form(
            self, request, queryset,
            action="change_credits",
            form_class=CreditsChangeForm,
            title=gettext("Grant or remove credits"),
            intro=gettext("Credits are changed through the ledger for these users:"),
            submit_label=gettext("Apply"),
            line=lambda user: f"{user} — {user.credits} {gettext('credits')}",
            apply=apply,
        )


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(ReadOnlyAdmin[CreditLedgerEntry]):
    """The ledger is append-only: staff read it, and change credits through the user action."""

    list_display = ["id", "created_at", "user", "kind", "amount", "balance_after", "reference", "created_by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["=user__telegram_id", "user__username", "=reference", "note"]
    list_select_related = ["user", "created_by"]
    raw_id_fields = ["user", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
