"""The admin action that refunds completed generations (a bad result).

Wired into GenerationAdmin's `actions`. It moves money, so it needs
`generations.refund_generation`, checked twice (accounts.staff_actions).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.staff_actions import staff_action
from generations.models import Generation
from generations.services.staff_refund import generation_staff_refund
from nanogen.errors import DomainError


class StaffRefundForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3}))


@staff_action(permission="generations.refund_generation",
              description=_("Refund the credits of completed generations (bad result)"))
def staff_refund(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> HttpResponse | None:
    form = StaffRefundForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        for generation in queryset:
            try:
                entry = generation_staff_refund(
                    generation_id=generation.pk, staff=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                modeladmin.message_user(request, f"{generation}: {exc.message}", messages.ERROR)
                continue
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
        return None
    generations = list(queryset.select_related("user"))
    return render(
        request,
        "admin/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "form": form,
            "lines": [
                gettext("%(generation)s by %(user)s: %(credits)d credits") % {
                    "generation": g, "user": g.user, "credits": g.credits_charged}
                for g in generations
            ],
            "pks": [g.pk for g in generations],
            "action": "staff_refund",
            "title": gettext("Refund completed generations"),
            "intro": gettext("Each generation's credits go back to its user once, recorded with your name and "
                             "the reason."),
            "submit_label": gettext("Refund"),
            "opts": modeladmin.model._meta,
        },
    )
