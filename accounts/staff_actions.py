"""Admin actions that need a permission of their own, checked twice.

Django offers an action to anyone who may see the changelist unless the action names
`permissions`; a review found staff with only "view user" granting themselves credits
that way. So every action that moves money or moderates is declared with
`staff_action(permission="app_label.codename")`:

- Django offers it only to staff with that permission: the action names the
  codename in `allowed_permissions`, and the ModelAdmin answers it with a
  `has_<codename>_permission = staff_permission("app_label.codename")` attribute;
- the action itself refuses to run without it (PermissionDenied, a 403), so a forged
  POST, or a ModelAdmin that wired the check wrongly, still cannot use it.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import Promise

Action = TypeVar("Action", bound=Callable[..., Any])


def staff_permission(permission: str) -> Callable[[Any, HttpRequest], bool]:
    """A ModelAdmin's `has_<codename>_permission` method for `app_label.codename`."""

    def has_permission(modeladmin: Any, request: HttpRequest) -> bool:
        return request.user.has_perm(permission)

    return has_permission


def staff_action(*, permission: str, description: str | Promise) -> Callable[[Action], Action]:
    """`@admin.action` for an action that needs `permission` (see the module docstring)."""
    _, _, codename = permission.partition(".")
    if not codename:
        raise ValueError(f"name the permission as app_label.codename, not {permission!r}")

    def decorate(action: Action) -> Action:
        @functools.wraps(action)
        def checked(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> Any:
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"{permission} is required")
            return action(modeladmin, request, queryset)

        checked.required_permission = permission  # type: ignore[attr-defined] - read by the permission tests
        return admin.action(description=description, permissions=[codename])(checked)  # type: ignore[return-value]

    return decorate
