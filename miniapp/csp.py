"""The Mini App page's Content-Security-Policy.

Strict: only our own files run, plus Telegram's `telegram-web-app.js`; no inline
scripts or styles (the page has none: its styles are set through the CSSOM, which
CSP allows); the API is same-origin; results may come from the media storage's
origin when its URLs point elsewhere (a CDN, an object store). Only Telegram's
web clients may show the page in a frame: mobile and desktop clients use a webview,
which frame-ancestors does not concern.
"""

from django.conf import settings

from core.media import media_origin, url_origin

TELEGRAM_SCRIPT_ORIGIN = "https://telegram.org"


def miniapp_csp() -> str:
    static = [o for o in [url_origin(settings.STATIC_URL)] if o]
    media = [o for o in [media_origin()] if o]
    directives: dict[str, list[str]] = {
        "default-src": ["'none'"],
        "script-src": ["'self'", TELEGRAM_SCRIPT_ORIGIN, *static],
        "style-src": ["'self'", *static],
        "img-src": ["'self'", "data:", "blob:", *static, *media],
        "media-src": ["'self'", "blob:", *media],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "object-src": ["'none'"],
        "frame-ancestors": list(settings.MINIAPP_FRAME_ANCESTORS) or ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(sources))}" for name, sources in directives.items())
