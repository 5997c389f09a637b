from django.conf import settings

_SUPPORTED = {code for code, _name in settings.LANGUAGES}


def user_language(language_code: str | None) -> str:
    """One of our languages (en, ru) for a Telegram `language_code` such as `ru` or `pt-br`."""
    base = (language_code or "").split("-")[0].lower()
    return base if base in _SUPPORTED else settings.LANGUAGE_CODE
