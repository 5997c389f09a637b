"""Django's 404 and 500 handlers: the contract's JSON body under /api/, Django's
default pages elsewhere (admin, the Mini App page)."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

from core.api.responses import error_response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(404, "NOT_FOUND", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(500, "INTERNAL_ERROR", _("Something went wrong on our side. Please try again."))
    return defaults.server_error(request)
