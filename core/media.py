"""Serving stored generation results from local disk when nothing in front does.

With the default FileSystemStorage, results live under MEDIA_ROOT. A deployment
behind nginx (or with S3-like storage, whose URLs point elsewhere) should serve
them there and set SERVE_MEDIA=false; a single-container deployment (Railway,
Heroku-style) has no such server, so the web process serves them itself. Result
names are unguessable and never change, so they are cached for a year.
"""

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.static import serve


def media_serve(request: HttpRequest, path: str) -> HttpResponseBase:
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
