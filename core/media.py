"""Serving stored files (generation results, uploaded input images) from local disk
when nothing in front does.

With the default FileSystemStorage, they live under MEDIA_ROOT. A deployment behind
nginx (or with S3-like storage, whose URLs point elsewhere) should serve them there
and set SERVE_MEDIA=false; a single-container deployment (Railway, Heroku-style) has
no such server, so the web process serves them itself. Names are unguessable and
never change, so files are cached for a year; users' own photos (uploads/) only by
the user's browser, never by a shared cache or a CDN, and never indexed.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.static import serve

PRIVATE_PREFIXES = ("uploads/",)


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if path.startswith(PRIVATE_PREFIXES):
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        response["X-Robots-Tag"] = "noindex, nofollow"
    else:
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
