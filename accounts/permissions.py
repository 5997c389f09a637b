from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.errors import UserBanned
from accounts.models import User


class IsTelegramUser(BasePermission):
    """Authenticated by init data and not banned (checked right after auth, before
    any validation, as the contract's check order says)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user  # None when no init data came (UNAUTHENTICATED_USER = None)
        if not isinstance(user, User):
            return False
        if user.is_banned:
            raise UserBanned()
        return True
