"""Admin pages of other apps that ops, the operations app on top, takes over.

Django-Q2's task pages offer "Resubmit selected tasks" to anyone who may see them;
running tasks again is an operator's decision, so here it needs the change
permission of the task model, checked twice like every money action
(accounts.staff_actions)."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_q.admin import FailAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, Success


@admin.action(description=_("Resubmit selected tasks to the queue"), permissions=["change"])
def resubmit(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied("changing tasks is required")
    resubmit_task(modeladmin, request, queryset)


class SuccessTaskAdmin(TaskAdmin):
    actions = [resubmit]


class FailedTaskAdmin(FailAdmin):
    actions = [resubmit]


for model, model_admin in ((Success, SuccessTaskAdmin), (Failure, FailedTaskAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
