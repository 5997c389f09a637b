from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.generic import TemplateView

from miniapp.csp import miniapp_csp


@method_decorator(xframe_options_exempt, name="dispatch")
class MiniAppView(TemplateView):
    """The Telegram Mini App: one HTML page; everything else is static files and the API.

    X-Frame-Options is DENY for the whole site, so this view is exempt and says who
    may frame it with CSP frame-ancestors (Telegram's web clients) instead.
    """

    template_name = "miniapp/index.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["api_root"] = f"{get_script_prefix()}api/"
        # The page counts the prompt against the same limit the API enforces.
        context["prompt_max_length"] = settings.GENERATION_PROMPT_MAX_LENGTH
        # And refuses a photo over the upload limit before sending it (the API still checks).
        context["upload_max_bytes"] = settings.UPLOAD_MAX_BYTES
        # Only a development server tells visitors about devlogin.
        context["debug"] = settings.DEBUG
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        # Telegram Web frames the page and its SDK then needs one inline <style> (see csp.py).
        framed = request.headers.get("Sec-Fetch-Dest") == "iframe"
        response["Content-Security-Policy"] = miniapp_csp(framed=framed)
        patch_vary_headers(response, ["Sec-Fetch-Dest"])
        response["Referrer-Policy"] = "same-origin"
        # Telegram's webviews cache hard; the page is tiny and names its (hashed, long
        # cached) assets, so it is revalidated every time and a deploy reaches users.
        patch_cache_control(response, no_cache=True)
        return response
