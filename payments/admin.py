"""Staff pages for money: packs, payments and refunds, unmatched payments,
withdrawals, referral accounts and their ledger.

Money fields are read-only everywhere and no page adds, edits or deletes a
payment, a balance or a ledger row: money moves only through the actions,
which call `payments.services` and record who did it, when and why. Each
action needs its own permission (refund_payment, decide_withdrawal,
resolve_paymentissue), so viewing the money does not imply moving it.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import staff_user
from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, admin_action_form, staff_action, staff_permission
from payments import admin_stars, services  # noqa: F401 - admin_stars registers subscriptions and reconciliations
from payments.models import (
    CreditPack,
    Payment,
    PaymentIssue,
    ReferralAccount,
    ReferralEarningsEntry,
    Withdrawal,
)


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin[CreditPack]):
    """Packs are edited freely: a payment copies price and credits when it is made."""

    list_display = ["slug", "title", "title_ru", "stars", "credits", "is_active", "sort_order", "updated_at"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ["slug", "title", "title_ru"]
    ordering = ["sort_order", "stars"]
    readonly_fields = ["created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Payments keep pointing at their pack: take a pack off sale instead.
        return False


class RefundForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    refund_anyway = forms.BooleanField(
        label=_("Refund anyway"),
        required=False,
        help_text=_("If the user has spent some of the credits, refund the Stars all the same and remove the "
                    "credits that are left (the balance stops at 0)."),
    )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin[Payment]):
    list_display = ["id", "created_at", "user", "pack", "stars", "credits", "status", "paid_at", "refunded_at"]
    list_filter = ["status", "pack", "refund_forced", "created_at", "paid_at", "refunded_at"]
    search_fields = ["=id", "=user__telegram_id", "user__username", "=telegram_payment_charge_id",
                     "=provider_payment_charge_id", "=invoice_payload"]
    list_select_related = ["user", "pack"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["refund"]
    fieldsets = [
        (None, {"fields": ["user", "pack", "stars", "credits", "status", "created_at", "updated_at", "paid_at"]}),
        (_("Telegram"), {"fields": ["invoice_payload", "invoice_link", "failure_reason",
                                    "telegram_payment_charge_id", "provider_payment_charge_id"]}),
        (_("Refund"), {"fields": ["refunded_by", "refunded_at", "refund_reason", "refund_forced",
                                  "refund_credits_removed", "refund_earnings_reversed", "refund_attempts",
                                  "refund_call_started_at"]}),
    ]

    has_refund_payment_permission = staff_permission("payments.refund_payment")

    @staff_action(permission="payments.refund_payment", description=_("Refund the Stars and take back the credits"))
    def refund(self, request: HttpRequest, queryset: QuerySet[Payment]) -> HttpResponse | None:
        def apply(payment: Payment, data: dict[str, Any]) -> None:
            result = services.payment_refund(
                payment_id=payment.pk, staff=staff_user(request), reason=data["reason"], force=data["refund_anyway"]
            )
            text = gettext("%(payment)s refunded: %(removed)d of %(credits)d credits removed.") % {
                "payment": result.payment, "removed": result.credits_removed, "credits": result.payment.credits,
            }
            if result.earnings_reversed or result.earnings_short:
                text += " " + gettext("%(reversed)d Stars of referral commission reversed.") % {
                    "reversed": result.earnings_reversed
                }
            if result.earnings_short:
                text += " " + gettext("%(short)d Stars of it had already been withdrawn.") % {
                    "short": result.earnings_short
                }
            if result.generations_cancelled:
                text += " " + gettext("%(count)d live generations were cancelled and refunded first.") % {
                    "count": result.generations_cancelled
                }
            if result.already_refunded_by_telegram:
                text += " " + gettext("Telegram had already refunded the Stars.")
            level = messages.WARNING if result.credits_short or result.earnings_short else messages.SUCCESS
            self.message_user(request, text, level)

        return admin_action_form(
            self, request, queryset.select_related("user"),
            action="refund",
            form_class=RefundForm,
            title=gettext("Refund Stars payments"),
            intro=gettext("Telegram returns the Stars to the buyer; the credits and the referrer's commission "
                          "are taken back through their ledgers."),
            submit_label=gettext("Refund"),
            line=lambda p: gettext("%(payment)s by %(user)s: %(credits)d credits, the user has %(balance)d") % {
                "payment": p, "user": p.user, "credits": p.credits, "balance": p.user.credits},
            apply=apply,
        )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(PaymentIssue)
class PaymentIssueAdmin(ReadOnlyAdmin[PaymentIssue]):
    list_display = ["id", "created_at", "reason", "status", "telegram_user_id", "user", "payment", "total_amount",
                    "currency"]
    list_filter = ["status", "reason", "created_at"]
    search_fields = ["=id", "=telegram_user_id", "=telegram_payment_charge_id", "payload"]
    list_select_related = ["user", "payment"]
    actions = ["refund_stars", "resolve"]

    has_resolve_paymentissue_permission = staff_permission("payments.resolve_paymentissue")

    def _close(self, request: HttpRequest, queryset: QuerySet[PaymentIssue], *, refund: bool) -> HttpResponse | None:
        def apply(issue: PaymentIssue, data: dict[str, Any]) -> None:
            close = services.payment_issue_refund if refund else services.payment_issue_resolve
            if close(issue_id=issue.pk, staff=staff_user(request), note=data["note"]):
                self.message_user(request, gettext("%(issue)s closed.") % {"issue": issue})
            else:
                self.message_user(request, gettext("%(issue)s was already closed.") % {"issue": issue},
                                  messages.WARNING)

        return admin_action_form(
            self, request, queryset,
            action="refund_stars" if refund else "resolve",
            form_class=NoteForm,
            title=gettext("Refund unmatched Stars") if refund else gettext("Resolve unmatched payments"),
            intro=gettext("Telegram returns the Stars to whoever paid them.") if refund else
            gettext("Close these issues, saying how they were settled."),
            submit_label=gettext("Refund") if refund else gettext("Resolve"),
            line=lambda issue: f"{issue} — Telegram user {issue.telegram_user_id}",
            apply=apply,
        )

    @staff_action(permission="payments.resolve_paymentissue", description=_("Refund the Stars"))
    def refund_stars(self, request: HttpRequest, queryset: QuerySet[PaymentIssue]) -> HttpResponse | None:
        return self._close(request, queryset, refund=True)

    @staff_action(permission="payments.resolve_paymentissue", description=_("Mark as resolved"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[PaymentIssue]) -> HttpResponse | None:
        return self._close(request, queryset, refund=False)


class ApproveForm(forms.Form):
    payout_reference = forms.CharField(
        label=_("Payout reference"), max_length=255, help_text=_("Transaction id or another proof of the payout.")
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin[Withdrawal]):
    list_display = ["id", "created_at", "user", "amount", "method", "destination", "status", "decided_by",
                    "decided_at"]
    list_filter = ["status", "method", "created_at", "decided_at"]
    search_fields = ["=id", "=user__telegram_id", "user__username", "destination", "payout_reference"]
    list_select_related = ["user", "decided_by"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject"]

    has_decide_withdrawal_permission = staff_permission("payments.decide_withdrawal")

    def _line(self, withdrawal: Withdrawal) -> str:
        return f"{withdrawal} — {withdrawal.user}, {withdrawal.get_method_display()}: {withdrawal.destination}"

    def _report(self, request: HttpRequest, withdrawal: Withdrawal, done: bool, success: str) -> None:
        if done:
            self.message_user(request, success % {"withdrawal": withdrawal})
        else:
            self.message_user(request, gettext("%(withdrawal)s was already decided; nothing changed.")
                              % {"withdrawal": withdrawal}, messages.WARNING)

    @staff_action(permission="payments.decide_withdrawal", description=_("Approve: mark as paid out"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> HttpResponse | None:
        def apply(withdrawal: Withdrawal, data: dict[str, Any]) -> None:
            done = services.withdrawal_approve(
                withdrawal_id=withdrawal.pk, staff=staff_user(request), payout_reference=data["payout_reference"]
            )
            self._report(request, withdrawal, done, gettext("%(withdrawal)s marked as paid."))

        return admin_action_form(
            self, request, queryset.select_related("user"), action="approve", form_class=ApproveForm,
            title=gettext("Approve withdrawals"),
            intro=gettext("Pay these out first, then record the payout reference."),
            submit_label=gettext("Mark as paid"), line=self._line, apply=apply,
        )

    @staff_action(permission="payments.decide_withdrawal", description=_("Reject: return the earnings"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> HttpResponse | None:
        def apply(withdrawal: Withdrawal, data: dict[str, Any]) -> None:
            done = services.withdrawal_reject(
                withdrawal_id=withdrawal.pk, staff=staff_user(request), reason=data["reason"]
            )
            self._report(request, withdrawal, done, gettext("%(withdrawal)s rejected; the earnings were returned."))

        return admin_action_form(
            self, request, queryset.select_related("user"), action="reject", form_class=RejectForm,
            title=gettext("Reject withdrawals"),
            intro=gettext("The held amount goes back to the user's referral earnings."),
            submit_label=gettext("Reject"), line=self._line, apply=apply,
        )


class EarningsEntryInline(ReadOnlyTabularInline[ReferralEarningsEntry, ReferralAccount]):
    model = ReferralEarningsEntry
    fields = ("created_at", "kind", "amount", "balance_after", "reference", "note", "created_by")
    readonly_fields = fields
    ordering = ["-id"]
    verbose_name_plural = _("Earnings ledger")


@admin.register(ReferralAccount)
class ReferralAccountAdmin(ReadOnlyAdmin[ReferralAccount]):
    list_display = ["user", "earnings", "updated_at"]
    search_fields = ["=user__telegram_id", "user__username", "=user__referral_code"]
    list_select_related = ["user"]
    ordering = ["-earnings"]
    inlines = [EarningsEntryInline]


@admin.register(ReferralEarningsEntry)
class ReferralEarningsEntryAdmin(ReadOnlyAdmin[ReferralEarningsEntry]):
    list_display = ["id", "created_at", "account", "kind", "amount", "balance_after", "reference", "created_by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["=account__user__telegram_id", "account__user__username", "=reference", "note"]
    list_select_related = ["account__user", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
