"""Start-up checks of the deployment: a production run (DEBUG off) that cannot work
refuses to start instead of failing on every request.

- nanogen.E001: SQLite in production. Row locks, constraints and concurrency (every
  money rule) are PostgreSQL's; SQLite is for a local run.
- nanogen.E002: no TELEGRAM_BOT_TOKEN in production. Nothing could authenticate: the
  Mini App's init data is signed with it, and the bot and the worker need it.
- nanogen.E003: the static files manifest is missing (collectstatic was not run with
  the manifest storage): every page that names a static file would answer 500.

E001 and E002 stop every management command (migrate, qcluster, runbot...); E003 is
a deploy check (the release phase migrates before it collects static files), and the
web process runs all three when its WSGI application loads (`web_startup_check`).
"""

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages


@register("nanogen")
def production_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        errors.append(Error(
            "Production (DEBUG off) runs on SQLite.",
            hint="Set DATABASE_URL to PostgreSQL (postgres://...): the money rules rely on its row locks and "
                 "constraints. SQLite is for a local run with DEBUG=true.",
            id="nanogen.E001",
        ))
    if not settings.TELEGRAM_BOT_TOKEN:
        errors.append(Error(
            "Production (DEBUG off) runs without TELEGRAM_BOT_TOKEN.",
            hint="Set it to the bot's token from @BotFather: the Mini App's sign-in is checked with it, so without "
                 "it nobody can use the API, and the bot and the worker cannot talk to Telegram.",
            id="nanogen.E002",
        ))
    return errors


@register("nanogen", deploy=True)
def static_manifest_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin) or storage.read_manifest() is not None:
        return []
    return [Error(
        f"The static files manifest ({storage.manifest_name}) is missing from STATIC_ROOT ({settings.STATIC_ROOT}).",
        hint="Run `python manage.py collectstatic --noinput` when building the release (the Procfile's release "
             "phase does), or every page would answer 500.",
        id="nanogen.E003",
    )]


def web_startup_check() -> None:
    """The checks above, for the web process (gunicorn runs no system checks):
    ImproperlyConfigured with every problem, so the workers never boot."""
    errors = [message for message in (*production_settings_check(), *static_manifest_check()) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "NanoGen cannot start:\n" + "\n".join(f"- {error.id}: {error.msg} {error.hint}" for error in errors)
        )
