"""Admin pages of other apps that ops, the operations app on top, takes over.

Every admin action needs a permission, checked twice like every money action
(core.admin.staff_action). Two libraries' actions need none, so they are given one
here: Django-Q2's "Resubmit selected tasks" (running tasks again) needs the change
permission of the task model, django-axes's "Clean up expired attempts" (deleting
login attempts) the delete permission of attempts.
"""

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_q.admin import FailAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, Success


@admin.action(description=_("Resubmit selected tasks to the queue"), permissions=["change"])
def resubmit(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: Any) -> None:
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied("changing tasks is required")
    resubmit_task(modeladmin, request, queryset)


class SuccessTaskAdmin(TaskAdmin):
    actions = [resubmit]


class FailedTaskAdmin(FailAdmin):
    actions = [resubmit]


class LockoutAdmin(AccessAttemptAdmin):
    """Failed staff logins per e-mail and IP address; deleting one lifts its lockout."""

    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: Any) -> None:
        if not self.has_delete_permission(request):
            raise PermissionDenied("deleting login attempts is required")
        # axes's own action reads attributes that only its login handling sets on a
        # request, so it fails (500) in the admin: delete what the cool-off ended.
        expired = AccessAttempt.objects.filter(attempt_time__lt=timezone.now() - settings.AXES_COOLOFF_TIME)
        count, _ = expired.delete()
        self.message_user(request, ngettext("Deleted %(count)d expired attempt.", "Deleted %(count)d expired attempts.",
                                            count) % {"count": count})


for model, model_admin in ((Success, SuccessTaskAdmin), (Failure, FailedTaskAdmin), (AccessAttempt, LockoutAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
