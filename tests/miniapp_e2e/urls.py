"""The project's URLs plus the media files, which the live server does not serve with
DEBUG off: the page shows generated results from MEDIA_URL."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from nanogen.urls import handler404, handler500  # noqa: F401
from nanogen.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    *project_urlpatterns,
]
