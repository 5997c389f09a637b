"""The project's URLs plus the bench's ceiling view (bench/settings.py only)."""

from django.urls import path

from bench.ceiling import PATH, start_ceiling
from nanogen.urls import urlpatterns as project_urlpatterns

urlpatterns = [path(PATH, start_ceiling, name="bench-ceiling-start"), *project_urlpatterns]
