"""The OpenAPI security scheme of the init-data authentication (registered on import,
from AccountsConfig.ready)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TelegramInitDataScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.TelegramInitDataAuthentication"
    name = "telegramInitData"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`tma <initData>`: the raw `Telegram.WebApp.initData` string.",
        }
