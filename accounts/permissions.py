from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.errors import UserBanned


class IsTelegramUser(BasePermission):
    """Authenticated by init data and not banned (checked right after auth, before
    any validation, as the contract's check order says)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is None:
            return False
        if request.user.is_banned:
            raise UserBanned()
        return True
