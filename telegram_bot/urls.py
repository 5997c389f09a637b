from django.urls import URLPattern, path

from telegram_bot.api import GenerationShareApi

# Mounted under /api/ by nanogen.urls.
api_urlpatterns: list[URLPattern] = [
    path("generations/<int:generation_id>/share", GenerationShareApi.as_view(), name="generation-share"),
]
