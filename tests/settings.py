"""Settings for the test suite: the project's settings with safe test defaults.

Defaults are set before the project's settings read the environment, so an
exported variable (say DATABASE_URL for another PostgreSQL) still wins.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nanogen")
os.environ.setdefault("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("AIMLAPI_KEY", "")
os.environ.setdefault("SIGNUP_BONUS_CREDITS", "0")
os.environ.setdefault("TELEGRAM_BOT_USERNAME", "nanogen_test_bot")
os.environ.setdefault("REFERRAL_PERCENT", "10")
os.environ.setdefault("WITHDRAWAL_MIN_AMOUNT", "100")
# Never the real Bot API: a worker step tells the user in the same task, so any test that
# runs a generation to its end sends. A port where nothing listens refuses at once (a
# test that looks at the messages points it at its fake_telegram).
os.environ.setdefault("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9")

from nanogen.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collectstatic in tests: serve static files from the apps as DEBUG would.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Generated files of a test run go to a scratch folder, never into the tree.
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="nanogen-test-media-")
