"""A web worker does not load python-telegram-bot (about 27 MiB per process): only the
bot, the worker and the two web paths that talk to Telegram through it (sharing a
result, retrying a stored update in the admin) import it, on first use. Checked in a
fresh interpreter, as gunicorn starts one: the test process itself imports everything."""

import subprocess
import sys

from tests.nanogen.test_deploy_check import PRODUCTION_ENV, ROOT

LOAD_WEB_WORKER = """
import sys
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

get_wsgi_application()
get_resolver().url_patterns  # the URLconf, and with it the admin's autodiscovery
print(sorted(name for name in sys.modules if name == "telegram" or name.startswith("telegram.")))
"""


def test_a_web_worker_starts_without_python_telegram_bot() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOAD_WEB_WORKER], cwd=ROOT, env=PRODUCTION_ENV,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
