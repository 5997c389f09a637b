from django.apps import AppConfig


class MiniappConfig(AppConfig):
    name = "miniapp"
    verbose_name = "Mini App"
