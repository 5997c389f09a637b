"""Stored media (generation results, uploads): serving them from local disk, and where
their URLs point.

Everything is kept in Django's `default_storage`: local files under MEDIA_ROOT
(MEDIA_STORAGE=local) or an S3-compatible object store (MEDIA_STORAGE=s3, see
core/s3.py). Code stores, reads and deletes through `default_storage` only, never
through a path, so that a file one machine wrote is there for every other machine.

With local files, a deployment behind nginx should serve MEDIA_URL there and set
SERVE_MEDIA=false; a single-container deployment (Railway, Heroku-style) has no such
server, so the web process serves them itself. Result names are unguessable and never
change, so they are cached for a year. An object store's URLs point at the store (or
its CDN) and the web process serves nothing.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.static import serve


def media_serve(request: HttpRequest, path: str) -> HttpResponseBase:
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def media_origin() -> str | None:
    """The origin (`https://cdn.example.com`) that stored files' URLs point at, for the
    Mini App's Content-Security-Policy; None when they are paths on our own origin.

    Asked of the storage itself, so that it is right for every backend: MEDIA_URL for
    local files, the endpoint, the bucket's host or the custom domain for S3 (building
    a URL, signed or not, makes no request).
    """
    return url_origin(default_storage.url("generations/origin-probe.png"))


def url_origin(url: str) -> str | None:
    """`https://cdn.example.com` for an absolute URL, None for a path on our own origin."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None
