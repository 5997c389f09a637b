from django.apps import AppConfig


class NanogenConfig(AppConfig):
    name = "nanogen"
    verbose_name = "NanoGen"

    def ready(self) -> None:
        from nanogen import checks  # noqa: F401 - registers the start-up checks
        from nanogen.api import schema  # noqa: F401 - registers the OpenAPI auth scheme
