from typing import cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import translation
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import User
from accounts.services import user_from_telegram
from accounts.telegram_init_data import InitDataExpired, InitDataInvalid, init_data_validate
from core.i18n import user_language
from core.logging import log_context_update

# The Authorization scheme of Mini App init data, and the WWW-Authenticate of a 401.
INIT_DATA_KEYWORD = "tma"


class InitDataAuthenticationFailed(exceptions.AuthenticationFailed):
    def __init__(self, contract_code: str, detail: str) -> None:
        super().__init__(detail)
        self.contract_code = contract_code


class TelegramInitDataAuthentication(BaseAuthentication):
    """`Authorization: tma <initData>`, the raw `Telegram.WebApp.initData` string.

    The user is identified by the signed init data only. Their language is
    activated here, so every message of the request (errors included) is theirs.
    """

    keyword = INIT_DATA_KEYWORD

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        user = init_data_authenticate(request._request)
        return None if user is None else (user, None)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def init_data_authenticate(request: HttpRequest) -> User | None:
    """The user whose init data `request` carries (`TelegramInitDataAuthentication`'s
    work, also for a view that runs without DRF's request): None without an
    Authorization header; InitDataAuthenticationFailed (AUTH_INVALID, AUTH_EXPIRED)
    for anything but valid init data. Activates the user's language."""
    # DRF's reading of the header (bytes, as Django's test client may also send it);
    # it only looks at request.META.
    header = get_authorization_header(cast(Request, request))
    if not header:
        return None
    try:
        scheme, _, init_data = header.decode("ascii").partition(" ")
    except UnicodeDecodeError:
        raise _invalid() from None
    if scheme.lower() != INIT_DATA_KEYWORD or not init_data.strip():
        raise _invalid()
    try:
        _fields, telegram_user = init_data_validate(
            init_data.strip(),
            bot_token=settings.TELEGRAM_BOT_TOKEN,
            max_age=settings.TELEGRAM_INIT_DATA_MAX_AGE,
        )
    except InitDataExpired:
        raise InitDataAuthenticationFailed(
            "AUTH_EXPIRED", translation.gettext("Your session has expired. Please reopen the app.")
        ) from None
    except InitDataInvalid:
        raise _invalid() from None

    user = user_from_telegram(telegram_user=telegram_user)
    language = user_language(user.language_code)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    log_context_update(user_id=user.pk)
    return user


def _invalid() -> InitDataAuthenticationFailed:
    return InitDataAuthenticationFailed("AUTH_INVALID", translation.gettext("Invalid Telegram authorization data."))


def request_user(request: Request) -> User:
    """The Telegram user of an API request that passed `IsTelegramUser`.

    The permission has already refused anyone else; this is the typed way to get the
    user, and answers 401 should a view ever be opened to anonymous requests.
    """
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def staff_user(request: HttpRequest) -> User:
    """The staff member behind an admin request (the admin site lets no one else in)."""
    user = request.user
    if not isinstance(user, User) or not user.is_staff:
        raise PermissionDenied
    return user
