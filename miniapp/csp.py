"""The Mini App page's Content-Security-Policy.

Strict: only our own files run, plus Telegram's `telegram-web-app.js`; no inline
scripts or styles (the page has none: its styles are set through the CSSOM, which
CSP allows); the API is same-origin; results may come from the media storage's
origin when its URLs point elsewhere (a CDN, an object store). Only Telegram's
web clients may show the page in a frame: mobile and desktop clients use a webview,
which frame-ancestors does not concern.

One exception, in a frame only: there telegram-web-app.js creates a `<style>` element
and fills it with the CSS Telegram Web sends (`set_custom_style`, its scrollbars and
such). Its content varies, so no hash can name it, and the SDK sets no nonce: a framed
page (`Sec-Fetch-Dest: iframe`, which only Telegram's web clients may frame) gets
`'unsafe-inline'` for `<style>` elements alone (`style-src-elem`). Style attributes stay
refused (`style-src` still governs them) and scripts stay strict. A webview or a browser
opening the page itself gets no exception at all.
"""

from django.conf import settings

from core.media import media_origin, url_origin

TELEGRAM_SCRIPT_ORIGIN = "https://telegram.org"


def miniapp_csp(*, framed: bool = False) -> str:
    """The policy; `framed` when the browser says the page loads into a frame."""
    static = [o for o in [url_origin(settings.STATIC_URL)] if o]
    media = [o for o in [media_origin()] if o]
    framed_styles = {"style-src-elem": ["'self'", *static, "'unsafe-inline'"]} if framed else {}
    directives: dict[str, list[str]] = {
        "default-src": ["'none'"],
        "script-src": ["'self'", TELEGRAM_SCRIPT_ORIGIN, *static],
        "style-src": ["'self'", *static],
        **framed_styles,
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
