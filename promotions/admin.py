"""Staff pages of promotions: promo codes are created and edited here; redemptions,
attempts and daily bonus claims are read-only (credits move only through the services)."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.authentication import staff_user
from core.admin import ReadOnlyAdmin
from promotions import services
from promotions.models import DailyBonusClaim, PromoAttempt, PromoCode, PromoRedemption, promo_code_normalise
from promotions.services.promo import PROMO_CODE_STAFF_FIELDS


class PromoCodeForm(forms.ModelForm[PromoCode]):
    class Meta:
        model = PromoCode
        fields = PROMO_CODE_STAFF_FIELDS

    def clean_code(self) -> str:
        # Normalised before the model's checks, so "spring25 " and "SPRING25" are one
        # code for the unique check too.
        code: str = self.cleaned_data["code"]
        return promo_code_normalise(code)

    def clean_max_redemptions(self) -> int:
        cap: int = self.cleaned_data["max_redemptions"]
        if self.instance.pk is not None:
            redeemed = PromoCode.objects.values_list("redeemed", flat=True).get(pk=self.instance.pk)
            if cap < redeemed:
                raise forms.ValidationError(
                    _("%(count)d users have already redeemed it: the cap cannot be lower.") % {"count": redeemed}
                )
        return cap


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin[PromoCode]):
    form = PromoCodeForm
    list_display = ["code", "credits", "redeemed", "max_redemptions", "expires_at", "is_active", "note", "created_at"]
    list_filter = ["is_active", ("expires_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["code", "note"]
    readonly_fields = ["redeemed", "created_by", "created_at", "updated_at"]
    fields = [*PROMO_CODE_STAFF_FIELDS, *readonly_fields]

    def save_model(self, request: HttpRequest, obj: PromoCode, form: forms.ModelForm[PromoCode],
                   change: bool) -> None:
        if not services.promo_code_save(promo=obj, created_by=staff_user(request)):
            self.message_user(request, _("Not saved: more users redeemed the code meanwhile than the new cap."),
                              messages.ERROR)

    def has_delete_permission(self, request: HttpRequest, obj: PromoCode | None = None) -> bool:
        # A redeemed code is history (its redemptions point at it): switch it off instead.
        return super().has_delete_permission(request, obj) and (obj is None or obj.redeemed == 0)


@admin.register(PromoRedemption)
class PromoRedemptionAdmin(ReadOnlyAdmin[PromoRedemption]):
    list_display = ["id", "promo", "user", "credits", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["promo__code", "=user__telegram_id", "user__username"]
    list_select_related = ["promo", "user"]
    raw_id_fields = ["promo", "user"]
    date_hierarchy = "created_at"


@admin.register(PromoAttempt)
class PromoAttemptAdmin(ReadOnlyAdmin[PromoAttempt]):
    list_display = ["id", "user", "code", "created_at"]
    search_fields = ["code", "=user__telegram_id", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(DailyBonusClaim)
class DailyBonusClaimAdmin(ReadOnlyAdmin[DailyBonusClaim]):
    list_display = ["id", "user", "day", "credits", "created_at"]
    list_filter = ["day"]
    search_fields = ["=user__telegram_id", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "day"
    show_full_result_count = False
