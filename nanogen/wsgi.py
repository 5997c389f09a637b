import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nanogen.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: refuse to boot here rather than answer 500s.
from core.checks import web_startup_check  # noqa: E402 - needs the apps loaded above

web_startup_check()
