"""Admin pieces every app's admin is built from (nothing is registered here).

- `ReadOnlyAdmin` and `ReadOnlyTabularInline`: pages and inlines that show rows staff
  may look at but never add, edit or delete through a form (ledgers, payments, logs);
  what changes them is an action that calls a service.
- `admin_action_form`: an admin action with an intermediate form (a reason, an amount):
  the first POST shows the form with the chosen rows, the second applies it to each row.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import DomainError

_M = TypeVar("_M", bound=Model)
_P = TypeVar("_P", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """Viewable, never added, edited or deleted through a form."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline[_M, _P]):
    """The latest rows under their parent (set `fields`, `readonly_fields = fields`),
    each linking to its own page; never added, edited or deleted there."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def admin_action_form(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[_M],
    *,
    action: str,
    form_class: type[forms.Form],
    title: str,
    intro: str,
    submit_label: str,
    line: Callable[[_M], str],
    apply: Callable[[_M, dict[str, Any]], None],
) -> HttpResponse | None:
    """Show `form_class` with a `line` per chosen row; once it is submitted and valid,
    `apply(row, cleaned_data)` to each row. A DomainError of one row is reported as an
    error message for that row and the others still go ahead; `apply` reports success."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data)
            except DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        return None
    return render(
        request,
        "admin/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "form": form,
            "lines": [line(obj) for obj in queryset],
            "pks": [obj.pk for obj in queryset],
            "action": action,
            "title": title,
            "intro": intro,
            "submit_label": submit_label,
            "opts": modeladmin.model._meta,
        },
    )
