from django.urls import URLPattern

# Mounted under /api/ by nanogen.urls.
api_urlpatterns: list[URLPattern] = []
