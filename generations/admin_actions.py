"""The admin action that refunds completed generations (a bad result).

Wired into GenerationAdmin's `actions`. It moves money, so it is offered only to
staff with `generations.change_generation` and checks that permission again
when it runs.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import staff_user
from core.admin import admin_action_form
from generations.models import Generation
from generations.services.staff_refund import generation_staff_refund


class StaffRefundForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3}))


@admin.action(description=_("Refund the credits of completed generations (bad result)"), permissions=["change"])
def staff_refund(
    modeladmin: admin.ModelAdmin[Generation], request: HttpRequest, queryset: QuerySet[Generation]
) -> HttpResponse | None:
    if not request.user.has_perm("generations.change_generation"):
        modeladmin.message_user(request, gettext("You may not refund generations."), messages.ERROR)
        return None

    def apply(generation: Generation, data: dict[str, Any]) -> None:
        entry = generation_staff_refund(generation_id=generation.pk, staff=staff_user(request), reason=data["reason"])
        if entry is None:
            modeladmin.message_user(
                request, gettext("%(generation)s was already refunded.") % {"generation": generation},
                messages.WARNING,
            )
        else:
            modeladmin.message_user(
                request,
                gettext("%(generation)s: %(credits)d credits returned to %(user)s.")
                % {"generation": generation, "credits": entry.amount, "user": entry.user},
            )

    return admin_action_form(
        modeladmin, request, queryset.select_related("user"),
        action="staff_refund",
        form_class=StaffRefundForm,
        title=gettext("Refund completed generations"),
        intro=gettext("Each generation's credits go back to its user once, recorded with your name and the reason."),
        submit_label=gettext("Refund"),
        line=lambda g: gettext("%(generation)s by %(user)s: %(credits)d credits") % {
            "generation": g, "user": g.user, "credits": g.credits_charged},
        apply=apply,
    )
