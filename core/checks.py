"""System checks of the kernel: a configuration that cannot work stops `manage.py
check`, every process's start-up and deploys, instead of failing the first request,
result or task that meets it.

- core.E001-E005, W001: a wrong MEDIA_STORAGE or an incomplete S3 setup.
- core.E006: SQLite in production (DEBUG off). Row locks, constraints and concurrency
  (every money rule) are PostgreSQL's; SQLite is for a local run.
- core.E007: no TELEGRAM_BOT_TOKEN in production. Nothing could authenticate: the
  Mini App's init data is signed with it, and the bot and the worker need it.
- core.E008: the static files manifest is missing (collectstatic was not run with the
  manifest storage): every page that names a static file would answer 500.
- core.E010, E011: a task name (core.task_names) that imports nothing.

E006 and E007 stop every management command (migrate, qcluster, runbot...); E008 is a
deploy check (the release phase migrates before it collects static files), and the web
process runs all three when its WSGI application loads (`web_startup_check`).
"""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.utils.module_loading import import_string

from core.task_names import TASK_NAMES

MEDIA_STORAGES = ("local", "s3")
ADDRESSING_STYLES = ("auto", "path", "virtual")


@register()
def media_storage_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.MEDIA_STORAGE not in MEDIA_STORAGES:
        return [Error(f"MEDIA_STORAGE must be one of {', '.join(MEDIA_STORAGES)}, not {settings.MEDIA_STORAGE!r}.",
                      id="core.E001")]
    if settings.MEDIA_STORAGE != "s3":
        return []
    messages: list[CheckMessage] = []
    if not settings.AWS_STORAGE_BUCKET_NAME:
        messages.append(Error("MEDIA_STORAGE is s3 but AWS_STORAGE_BUCKET_NAME is not set.",
                              hint="Name the bucket that keeps the results.", id="core.E002"))
    if bool(settings.AWS_ACCESS_KEY_ID) != bool(settings.AWS_SECRET_ACCESS_KEY):
        messages.append(Error("Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (boto3's own "
                              "credentials, e.g. an instance role).", id="core.E003"))
    if settings.AWS_QUERYSTRING_AUTH and not settings.AWS_S3_CUSTOM_DOMAIN and settings.AWS_QUERYSTRING_EXPIRE < 60:
        messages.append(Error("AWS_QUERYSTRING_EXPIRE must be at least 60 seconds: the Mini App shows a result "
                              "by its signed URL.", id="core.E004"))
    if settings.AWS_S3_ADDRESSING_STYLE not in ADDRESSING_STYLES:
        messages.append(Error(f"AWS_S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}.",
                              id="core.E005"))
    if settings.SERVE_MEDIA:
        messages.append(Warning("SERVE_MEDIA serves MEDIA_ROOT, but with MEDIA_STORAGE=s3 results are in the "
                                "object store and their URLs point there.", hint="Unset SERVE_MEDIA.",
                                id="core.W001"))
    return messages


@register()
def task_names_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Every task the project enqueues or schedules by name is a function that imports."""
    messages: list[CheckMessage] = []
    for name in TASK_NAMES:
        try:
            task = import_string(name)
        except ImportError as exc:
            messages.append(Error(f"Task {name} does not import: {exc}", id="core.E010"))
            continue
        if not callable(task):
            messages.append(Error(f"Task {name} is not callable.", id="core.E011"))
    return messages


@register()
def production_settings_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        errors.append(Error(
            "Production (DEBUG off) runs on SQLite.",
            hint="Set DATABASE_URL to PostgreSQL (postgres://...): the money rules rely on its row locks and "
                 "constraints. SQLite is for a local run with DEBUG=true.",
            id="core.E006",
        ))
    if not settings.TELEGRAM_BOT_TOKEN:
        errors.append(Error(
            "Production (DEBUG off) runs without TELEGRAM_BOT_TOKEN.",
            hint="Set it to the bot's token from @BotFather: the Mini App's sign-in is checked with it, so without "
                 "it nobody can use the API, and the bot and the worker cannot talk to Telegram.",
            id="core.E007",
        ))
    return errors


@register(deploy=True)
def static_manifest_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    # `object`: the stubs type the storage as Storage, which the mixin's signatures clash with.
    storage: object = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin) or storage.read_manifest() is not None:
        return []
    return [Error(
        f"The static files manifest ({storage.manifest_name}) is missing from STATIC_ROOT ({settings.STATIC_ROOT}).",
        hint="Run `python manage.py collectstatic --noinput` when building the release (the Procfile's release "
             "phase does), or every page would answer 500.",
        id="core.E008",
    )]


def web_startup_check() -> None:
    """The checks above, for the web process (gunicorn runs no system checks):
    ImproperlyConfigured with every problem, so the workers never boot."""
    errors = [message for message in (*production_settings_check(), *static_manifest_check()) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "NanoGen cannot start:\n" + "\n".join(f"- {error.id}: {error.msg} {error.hint}" for error in errors)
        )
