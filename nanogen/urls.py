from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from accounts.api import MeApi
from core.api.views import HealthApi
from core.media import media_serve
from generations.urls import api_urlpatterns as generations_api
from ops.views import metrics_view
from payments.urls import api_urlpatterns as payments_api
from promotions.urls import api_urlpatterns as promotions_api
from telegram_bot.urls import api_urlpatterns as telegram_bot_api

api_patterns = [
    path("health", HealthApi.as_view(), name="health"),
    path("me", MeApi.as_view(), name="me"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    *generations_api,
    *payments_api,
    *telegram_bot_api,
    *promotions_api,
]

urlpatterns = [
    path("api/", include((api_patterns, "api"))),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("", include("miniapp.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns.insert(0, re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media_serve, name="media"))

handler404 = "core.api.handlers.not_found"
handler500 = "core.api.handlers.server_error"
