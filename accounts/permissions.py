from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.errors import UserBanned
from accounts.models import User


class IsTelegramUser(BasePermission):
    """Authenticated by init data and not banned (checked right after auth, before
    any validation, as the contract's check order says)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        # request.user is None when no init data came (UNAUTHENTICATED_USER = None).
        return telegram_user_permitted(request.user)


def telegram_user_permitted(user: object) -> bool:
    """IsTelegramUser's rule, also for a view that runs without DRF's request: False
    for anyone but a Telegram user; UserBanned for a banned one."""
    if not isinstance(user, User):
        return False
    if user.is_banned:
        raise UserBanned()
    return True
