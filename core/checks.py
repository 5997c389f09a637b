"""System checks of the kernel: a wrong MEDIA_STORAGE, or a task name that imports
nothing, stops `manage.py check`, every process's start-up and deploys, instead of
failing the first result a worker stores or the first delivery of the task."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
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
