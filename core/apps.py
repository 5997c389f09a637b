from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel every app builds on: the error body, the API's cross-cutting
    pieces (exception handler, pagination, schema), the Bot API client, logging. It
    imports no other app of the project."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the media storage's and the task names' checks
