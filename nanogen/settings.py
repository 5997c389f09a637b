"""NanoGen settings: every value comes from the environment (django-environ).

`.env` in the project root is read when present. Local and test runs get safe
defaults; a production run (DEBUG off) refuses to start without a SECRET_KEY.
`.env.example` lists every variable with its default.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Django classes that the type checker sees as generic (ModelAdmin[User], ModelForm[AIModel])
# must accept the subscript at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False,
                 "off": False}


def env_bool(name: str, *, default: bool) -> bool:
    """A yes/no setting. Unlike django-environ's `env.bool`, which reads any unknown
    word (a typo such as DEBUG=ture) as False, this refuses to start on one."""
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    if raw.lower() not in BOOLEAN_WORDS:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a yes/no value: use one of {', '.join(BOOLEAN_WORDS)}."
        )
    return BOOLEAN_WORDS[raw.lower()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or .env), "
            "or set DEBUG=true for a local run."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin with NanoGen's admin site (the staff dashboard); see ops.admin_apps.
    "ops.admin_apps.NanoGenAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # core before django_q: its `qcluster` command replaces Django-Q2's (schedules run on time).
    "core",
    "django_q",
    "accounts",
    "generations",
    "payments",
    "promotions",
    "telegram_bot",
    "miniapp",
    "ops",
]

MIDDLEWARE = [
    "core.middleware.RequestContextMiddleware",
    "ops.middleware.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.api.middleware.ApiBodySizeLimitMiddleware",
    # Sessions, login and messages are Django's, passed by API requests (core.middleware).
    "core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nanogen.urls"
WSGI_APPLICATION = "nanogen.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite is the embedded default for a local run; production and the test suite
# use PostgreSQL. Connections are kept between requests: opening a PostgreSQL
# connection per request costs about four times the throughput of a simple
# transaction on these machines.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web and worker) share one file locally: wait for locks
    # instead of failing at once, and take the write lock at BEGIN so that
    # select_for_update-style sections serialise instead of deadlocking.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # The hot statements of core/statements.py (a start's debit, reads and inserts) are
    # prepared on the server once per connection; Django's own queries never are. Off
    # behind a pooler in transaction mode that does not keep prepared statements
    # (PgBouncer before 1.21, or without max_prepared_statements).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Where generation results (and uploads) are kept: `local` (MEDIA_ROOT, one machine or a
# shared volume) or `s3` (an S3-compatible object store, shared by every machine); see
# the media storage block below.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
# The web process serves MEDIA_URL from MEDIA_ROOT itself unless something in front
# does (nginx) or the storage is remote (its URLs point elsewhere): see core/media.py.
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=MEDIA_STORAGE == "local" and MEDIA_URL.startswith("/"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "core.storage.StaticFilesStorage"
        )
    },
}

# --- API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TelegramInitDataAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsTelegramUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.NanoGenAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NanoGen API",
    "DESCRIPTION": "API of the NanoGen Telegram Mini App. Authenticate with `Authorization: tma <initData>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}
# Request bodies above this size get 413 PAYLOAD_TOO_LARGE before any parsing.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, 2_621_440)

# --- Telegram ---------------------------------------------------------------------
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
# The bot runs only with a real token. A local run without one still signs and
# checks Mini App init data (devlogin) with a fixed development token.
TELEGRAM_BOT_ENABLED = bool(TELEGRAM_BOT_TOKEN)
if DEBUG and not TELEGRAM_BOT_TOKEN:
    TELEGRAM_BOT_TOKEN = "0:local-development-token"  # noqa: S105 - DEBUG only, not a secret
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org").rstrip("/")
TELEGRAM_WEBHOOK_URL = env.str("TELEGRAM_WEBHOOK_URL", default="")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
TELEGRAM_WEBHOOK_PORT = env.int("TELEGRAM_WEBHOOK_PORT", default=8443)
TELEGRAM_INIT_DATA_MAX_AGE = env.int("TELEGRAM_INIT_DATA_MAX_AGE", default=86400)
MINI_APP_URL = env.str("MINI_APP_URL", default="http://127.0.0.1:8000/")
ADMIN_ALERT_CHAT_ID = env.str("ADMIN_ALERT_CHAT_ID", default="")

# --- Generations and money ----------------------------------------------------
AIMLAPI_KEY = env.str("AIMLAPI_KEY", default="")
AIMLAPI_BASE_URL = env.str("AIMLAPI_BASE_URL", default="https://api.aimlapi.com").rstrip("/")
GENERATION_MAX_ACTIVE = env.int("GENERATION_MAX_ACTIVE", default=5)
GENERATION_RATE_LIMIT_PER_MINUTE = env.int("GENERATION_RATE_LIMIT_PER_MINUTE", default=10)
GENERATION_TIMEOUT_SECONDS = env.int("GENERATION_TIMEOUT_SECONDS", default=15 * 60)
SIGNUP_BONUS_CREDITS = env.int("SIGNUP_BONUS_CREDITS", default=0)
REFERRAL_PERCENT = env.int("REFERRAL_PERCENT", default=10)

# --- Queue (Django-Q2) --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
Q_TIMEOUT = env.int("Q_TIMEOUT", default=120)
Q_RETRY = env.int("Q_RETRY", default=180)
if Q_RETRY <= Q_TIMEOUT:
    # The ORM broker hands a task that was not acknowledged after `retry` seconds
    # to another worker; a retry at or below the timeout would run a slow but live
    # task twice at the same time.
    raise ImproperlyConfigured(f"Q_RETRY ({Q_RETRY}) must be greater than Q_TIMEOUT ({Q_TIMEOUT}).")
# `manage.py qcluster` enqueues due schedules (video polls, retries) this often
# (core/management/commands/qcluster.py); a scheduled step runs about this late at most.
Q_SCHEDULER_TICK_SECONDS = env.float("Q_SCHEDULER_TICK_SECONDS", default=1.0)
Q_CLUSTER = {
    "name": "nanogen",
    "workers": env.int("Q_WORKERS", default=2),
    # A task may run for `timeout` seconds, then its worker process is killed.
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    # A task whose worker died is redelivered at most this many times (the ORM
    # broker redelivers after `retry`; Redis loses it). Nothing depends on it:
    # generations are claimed by conditional UPDATEs and the sweeper finds what
    # was lost.
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    # A task that raised is done: our tasks record their own failures and retry by
    # scheduling, so the broker must not run them again.
    "ack_failures": True,
    # Results of failed tasks only (-1): saving each success cost the cluster's single
    # monitor process a SELECT and an INSERT per task, the largest share of its time at
    # a few dozen generations a second, and nothing reads them (a generation's row is
    # its outcome). Failures are kept, unpruned; the sweeper deletes those older than
    # Q_RESULTS_KEEP_DAYS. Q_SAVE_LIMIT=0 keeps successes too (every one, unpruned).
    "save_limit": env.int("Q_SAVE_LIMIT", default=-1),
    "catch_up": False,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    # Django-Q2's ORM broker with one statement to take tasks and one to acknowledge each
    # (core/broker.py; its own costs eight round trips a task).
    Q_CLUSTER["broker_class"] = "core.broker.OrmBroker"
    # Seconds the pusher waits after finding the queue empty. Measured (docs/operations.md,
    # Benchmarks): 0.1 s costs an idle cluster what Django-Q2's 0.2 s did with its own broker
    # (about 1% of a core, and 0.5% of PostgreSQL's) and halves the wait from an enqueue to
    # the claim (p50 0.08 s against 0.15). `bulk` stays 1 (one task per take): 4 cost no
    # less CPU per task measurably, and tasks a killed cluster held wait Q_RETRY.
    Q_CLUSTER["poll"] = 0.1

# --- Caches ---------------------------------------------------------------------------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Security (production) ------------------------------------------------------------
# Behind a TLS-terminating proxy (Railway, Heroku, nginx) the proxy sets
# X-Forwarded-Proto; SECURE_SSL_REDIRECT and HSTS assume HTTPS end to end.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and Prometheus often talk plain HTTP inside a private network.
SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^metrics$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
# The Mini App is shown inside Telegram's iframe on web clients, so the page at
# `/` allows framing by Telegram (set per view); everything else is DENY.
X_FRAME_OPTIONS = "DENY"

# --- Logging ------------------------------------------------------------------------
# One JSON line per event in production (LOG_FORMAT=json); readable lines locally.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'plain', not {LOG_FORMAT!r}.")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "plain": {"()": "core.logging.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The request line is ours (nanogen.request); Django's repeats it for 4xx.
        "django.request": {"level": "ERROR"},
        # httpx (python-telegram-bot) logs request URLs, which contain the bot token.
        "httpx": {"level": "WARNING"},
    },
}

# --- Generations API (start, idempotency, limits, history) ---------------------
# GENERATION_MAX_ACTIVE, GENERATION_RATE_LIMIT_PER_MINUTE and GENERATION_TIMEOUT_SECONDS
# are above with the money settings.
GENERATION_PROMPT_MAX_LENGTH = env.int("GENERATION_PROMPT_MAX_LENGTH", default=2000)
# Retry-After (seconds) sent with 429 MAX_ACTIVE_GENERATIONS: when a slot frees up
# depends on the provider, so this is a hint of a typical generation's duration.
GENERATION_MAX_ACTIVE_RETRY_AFTER = env.int("GENERATION_MAX_ACTIVE_RETRY_AFTER", default=10)

# --- Payments, referrals, withdrawals ---------------------------------------------------
# The bot's @username (without @): referral links are https://t.me/<username>?start=ref_<code>.
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="").lstrip("@")
# Seconds the web process and the worker wait for a Bot API answer (invoice links, refunds).
TELEGRAM_API_TIMEOUT = env.float("TELEGRAM_API_TIMEOUT", default=10.0)
# Smallest withdrawal of referral earnings, in Stars.
WITHDRAWAL_MIN_AMOUNT = env.int("WITHDRAWAL_MIN_AMOUNT", default=100)
# A referral link links only a user created less than this many hours ago who has not paid yet.
REFERRAL_LINK_MAX_AGE_HOURS = env.int("REFERRAL_LINK_MAX_AGE_HOURS", default=24)
# urllib3 (requests) logs each request line, Bot API URLs with the bot token in them, at DEBUG.
LOGGING["loggers"]["urllib3.connectionpool"] = {"level": "INFO"}

# --- Generation worker (generations.tasks, generations.providers) --------------------------
# The AIML API client. A single step of the worker (provider call plus the result
# download) must fit in Q_TIMEOUT; a system check says so when it does not.
AIMLAPI_CONNECT_TIMEOUT_SECONDS = env.float("AIMLAPI_CONNECT_TIMEOUT_SECONDS", default=5.0)
AIMLAPI_READ_TIMEOUT_SECONDS = env.float("AIMLAPI_READ_TIMEOUT_SECONDS", default=60.0)
# Downloading a finished result from the provider's (expiring) URL into our storage.
GENERATION_RESULT_READ_TIMEOUT_SECONDS = env.float("GENERATION_RESULT_READ_TIMEOUT_SECONDS", default=20.0)
GENERATION_RESULT_MAX_BYTES = env.int("GENERATION_RESULT_MAX_BYTES", default=200 * 1024 * 1024)
# Transient provider errors (network, timeouts, HTTP 429 and 5xx): at most this many
# calls to create a result, spaced by exponential backoff with jitter.
GENERATION_PROVIDER_MAX_ATTEMPTS = env.int("GENERATION_PROVIDER_MAX_ATTEMPTS", default=4)
GENERATION_RETRY_BASE_SECONDS = env.float("GENERATION_RETRY_BASE_SECONDS", default=10.0)
GENERATION_RETRY_MAX_SECONDS = env.float("GENERATION_RETRY_MAX_SECONDS", default=300.0)
# Video jobs are polled this often (each poll is a schedule, run within about
# Q_SCHEDULER_TICK_SECONDS of its time).
GENERATION_POLL_INTERVAL_SECONDS = env.float("GENERATION_POLL_INTERVAL_SECONDS", default=10.0)
# The sweeper re-enqueues a generation still pending after this long, and again
# after each further interval while it stays pending.
GENERATION_PENDING_REQUEUE_SECONDS = env.int("GENERATION_PENDING_REQUEUE_SECONDS", default=120)
# A processing generation whose next step is this late (a lost schedule, a killed
# worker) is handed to a worker again by the sweeper.
GENERATION_STALLED_AFTER_SECONDS = env.int("GENERATION_STALLED_AFTER_SECONDS", default=90)
# Django-Q2 task results (successes and failures) older than this are deleted.
Q_RESULTS_KEEP_DAYS = env.int("Q_RESULTS_KEEP_DAYS", default=7)
# The offline demo provider: how long a demo generation takes. An image waits in
# the task (like a synchronous provider call; must stay well under Q_TIMEOUT), a
# video is a job that is ready after this long and is polled.
DEMO_PROVIDER_DELAY_SECONDS = env.float("DEMO_PROVIDER_DELAY_SECONDS", default=0.0)

# --- Telegram bot (telegram_bot: runbot, notifications, admin alerts) ---------------------
# TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, TELEGRAM_WEBHOOK_*, MINI_APP_URL and
# ADMIN_ALERT_CHAT_ID are above with the other Telegram settings.
# Updates the bot handles at the same time (each waits on Telegram, not on the CPU).
TELEGRAM_BOT_CONCURRENT_UPDATES = env.int("TELEGRAM_BOT_CONCURRENT_UPDATES", default=8)
# Where /paysupport sends users with payment questions, e.g. @nanogen_support (empty: not shown).
TELEGRAM_SUPPORT_CONTACT = env.str("TELEGRAM_SUPPORT_CONTACT", default="")
# A notification of a finished generation is tried at most this many times (429 and
# transient errors), waiting TELEGRAM_NOTIFY_RETRY_BASE_SECONDS, then twice, four
# times as long..., at most TELEGRAM_NOTIFY_RETRY_MAX_SECONDS, between tries.
TELEGRAM_NOTIFY_MAX_ATTEMPTS = env.int("TELEGRAM_NOTIFY_MAX_ATTEMPTS", default=5)
TELEGRAM_NOTIFY_RETRY_BASE_SECONDS = env.float("TELEGRAM_NOTIFY_RETRY_BASE_SECONDS", default=30.0)
TELEGRAM_NOTIFY_RETRY_MAX_SECONDS = env.float("TELEGRAM_NOTIFY_RETRY_MAX_SECONDS", default=900.0)
# Files the worker uploads with a notification; Telegram takes at most 50 MB from a bot.
TELEGRAM_UPLOAD_TIMEOUT = env.float("TELEGRAM_UPLOAD_TIMEOUT", default=45.0)
# Alerts about failing bot handlers: at most one per kind of error in this many seconds.
ADMIN_ALERT_INTERVAL_SECONDS = env.int("ADMIN_ALERT_INTERVAL_SECONDS", default=600)

# --- Telegram updates and Stars: nothing paid is ever lost ------------------------------------
# Every update is stored before Telegram gets its 200 (telegram_bot.webhook, telegram_bot.polling).
# Webhook request bodies over this many bytes are refused (413) before they are read.
TELEGRAM_WEBHOOK_MAX_BODY_BYTES = env.int("TELEGRAM_WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
# A process that takes on an update holds it this long; after that (it died), another may.
TELEGRAM_UPDATE_LEASE_SECONDS = env.int("TELEGRAM_UPDATE_LEASE_SECONDS", default=120)
# An update whose handlers fail is tried this often by the worker, waiting the base delay,
# then twice, four times as long..., at most the maximum; then staff see it in the admin.
TELEGRAM_UPDATE_MAX_ATTEMPTS = env.int("TELEGRAM_UPDATE_MAX_ATTEMPTS", default=5)
TELEGRAM_UPDATE_RETRY_BASE_SECONDS = env.int("TELEGRAM_UPDATE_RETRY_BASE_SECONDS", default=30)
TELEGRAM_UPDATE_RETRY_MAX_SECONDS = env.int("TELEGRAM_UPDATE_RETRY_MAX_SECONDS", default=900)
# Processed updates are kept this long (repeats are recognised; Telegram retries for a day).
TELEGRAM_UPDATES_KEEP_DAYS = env.int("TELEGRAM_UPDATES_KEEP_DAYS", default=3)
# The `subscription_period` of a subscription pack's invoice link. Telegram accepts only
# 2592000 (30 days); its test environment only 60 or 300.
STARS_SUBSCRIPTION_PERIOD_SECONDS = env.int("STARS_SUBSCRIPTION_PERIOD_SECONDS", default=2592000)
# The daily `reconcile_stars` schedule compares this many days of Stars transactions.
STARS_RECONCILE_DAYS = env.int("STARS_RECONCILE_DAYS", default=3)
# --- The bot as a client (telegram_bot.chat: generating in the chat, inline mode, sharing) ------
# The catalog model a text message to the bot generates with until the user picks one with /model.
BOT_DEFAULT_MODEL = env.str("BOT_DEFAULT_MODEL", default="nano-banana")
# A self-hosted Bot API server (TELEGRAM_API_BASE_URL points at it, run with --local): plain-HTTP
# webhook URLs are allowed and the bot uploads files up to 2000 MB (the cloud Bot API: 50 MB,
# larger results are sent as links).
TELEGRAM_API_LOCAL = env_bool("TELEGRAM_API_LOCAL", default=False)
# Inline mode (`@bot words`): results per answer, and how long Telegram may cache an answer
# (for the one user who asked: the results are personal).
BOT_INLINE_PAGE_SIZE = env.int("BOT_INLINE_PAGE_SIZE", default=20)
BOT_INLINE_CACHE_SECONDS = env.int("BOT_INLINE_CACHE_SECONDS", default=10)

# --- Photos sent to the bot (telegram_bot: edits and animations from the chat) -----------------
# An album's photos arrive as separate updates, about a second apart: it is complete once none
# came for this many seconds (then the worker downloads them and starts one generation).
BOT_ALBUM_WAIT_SECONDS = env.float("BOT_ALBUM_WAIT_SECONDS", default=2.0)
# A photo sent without a caption (or a result's Edit button) waits this long for the text that
# says what to do with it; the next text in the chat uses it. Below UPLOAD_KEEP_HOURS.
BOT_PENDING_INPUT_MINUTES = env.int("BOT_PENDING_INPUT_MINUTES", default=30)

# --- Mini App -------------------------------------------------------------------------
# Origins allowed to show the Mini App page in a frame (CSP frame-ancestors): Telegram's
# web clients. Mobile and desktop clients open it in a webview, not a frame.
MINIAPP_FRAME_ANCESTORS = env.list(
    "MINIAPP_FRAME_ANCESTORS",
    default=["https://web.telegram.org", "https://webk.telegram.org", "https://webz.telegram.org"],
)

# --- Operations: metrics and the staff dashboard (ops) --------------------------------
# /metrics (Prometheus text format) answers only `Authorization: Bearer <METRICS_TOKEN>`;
# while METRICS_TOKEN is empty the endpoint does not exist (404). With gunicorn, set
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself) to an empty directory so
# that the HTTP latency histograms of all web workers are added up; see gunicorn.conf.py.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The staff dashboard shows this many days unless staff choose a period, and at most
# DASHBOARD_MAX_DAYS (the page's cost grows with the period, not with history).
DASHBOARD_DEFAULT_DAYS = env.int("DASHBOARD_DEFAULT_DAYS", default=30)
DASHBOARD_MAX_DAYS = env.int("DASHBOARD_MAX_DAYS", default=366)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The covering indexes of the time windows (INCLUDE columns) are PostgreSQL's; on
    # SQLite (a local run) they are plain indexes, which is all a small database needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Media storage: S3-compatible object storage (MEDIA_STORAGE=s3) -----------------------
# With workers and web servers on several machines, a result the worker stored must be
# readable by every web server and by the worker that sends it to Telegram: an object
# store (AWS S3, Cloudflare R2, MinIO, Backblaze B2...) through django-storages. The
# access keys may be empty to use boto3's own chain (an instance role, ~/.aws). URLs
# handed to clients are signed and expire after AWS_QUERYSTRING_EXPIRE seconds, or,
# with AWS_QUERYSTRING_AUTH=false or a AWS_S3_CUSTOM_DOMAIN (a CDN or the bucket's
# public host), are plain public URLs. `manage.py check` refuses s3 without a bucket.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
AWS_S3_CUSTOM_DOMAIN = env.str("AWS_S3_CUSTOM_DOMAIN", default="")
AWS_QUERYSTRING_AUTH = env_bool("AWS_QUERYSTRING_AUTH", default=True)
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=3600)
AWS_LOCATION = env.str("AWS_LOCATION", default="")
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="auto")
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "core.s3.S3MediaStorage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL or None,
            "region_name": AWS_S3_REGION_NAME or None,
            "access_key": AWS_ACCESS_KEY_ID or None,
            "secret_key": AWS_SECRET_ACCESS_KEY or None,
            "custom_domain": AWS_S3_CUSTOM_DOMAIN or None,
            "querystring_auth": AWS_QUERYSTRING_AUTH,
            "querystring_expire": AWS_QUERYSTRING_EXPIRE,
            "location": AWS_LOCATION,
            "addressing_style": None if AWS_S3_ADDRESSING_STYLE == "auto" else AWS_S3_ADDRESSING_STYLE,
        },
    }

# --- Security: result downloads, staff login, bot webhook ------------------------------
# The worker downloads results only from public internet addresses (see
# generations/public_http.py). Private addresses it may reach all the same, as
# ADDRESS, ADDRESS/PREFIX or ADDRESS:PORT ([IPv6]:PORT), comma-separated: e.g. an
# object store on the private network. Empty (the default): none.
GENERATION_RESULT_ALLOWED_PRIVATE_ADDRESSES = env.list("GENERATION_RESULT_ALLOWED_PRIVATE_ADDRESSES", default=[])
# The API's JSON parser refuses what PostgreSQL, the renderer or Python's recursion
# cannot take (lone surrogates, NaN, numbers past 64 bits, deep nesting): 400, not 500.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["core.api.parsers.StrictJSONParser"]

# Staff login to /admin/: django-axes locks out an e-mail after ADMIN_LOGIN_FAILURE_LIMIT
# failed passwords from one IP address (the combination: an attacker elsewhere cannot
# lock staff out), for ADMIN_LOGIN_COOLOFF_MINUTES; lockouts are listed (and lifted by
# deleting them) in the admin under "Axes", or with `manage.py axes_reset`. Behind a
# proxy every client has the proxy's REMOTE_ADDR, so the lockout acts per e-mail.
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# OTPMiddleware right after authentication: it tells whether the session passed a TOTP code.
MIDDLEWARE.insert(MIDDLEWARE.index("core.middleware.AuthenticationMiddleware") + 1,
                  "django_otp.middleware.OTPMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The admin's login form calls the e-mail field "username" (AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
# Two-factor login (TOTP apps such as Google Authenticator, via django-otp): staff who
# have a confirmed device always need its code; STAFF_REQUIRE_2FA makes a device
# mandatory for the whole admin. Enrol with `manage.py staff_totp_enrol <email>`.
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="NanoGen")
# django-axes says hello at every start-up at INFO.
LOGGING["loggers"]["axes.apps"] = {"level": "WARNING"}
# --- Input images, prices and provider costs (generations: uploads, price rules) --------------
# An upload (POST /api/uploads): JPEG, PNG or WebP of at most UPLOAD_MAX_BYTES bytes and
# UPLOAD_MAX_PIXELS pixels, stored re-encoded at most UPLOAD_MAX_SIDE pixels on its longer
# side (what the providers need: larger inputs only make their requests heavier).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
UPLOAD_MAX_SIDE = env.int("UPLOAD_MAX_SIDE", default=2048)
# Pillow decodes WebP only whole, at about 16 bytes a pixel: a WebP may have this many
# pixels (6 MP: a web worker stays under 200 MB), JPEG and PNG up to UPLOAD_MAX_PIXELS.
UPLOAD_WEBP_MAX_PIXELS = env.int("UPLOAD_WEBP_MAX_PIXELS", default=6_000_000)
UPLOAD_RATE_LIMIT_PER_MINUTE = env.int("UPLOAD_RATE_LIMIT_PER_MINUTE", default=30)
# Uploads that no generation used are deleted (file and row) by the sweeper after this long.
UPLOAD_KEEP_HOURS = env.int("UPLOAD_KEEP_HOURS", default=24)
# A video create whose answer never came (a timeout) may still have started a paid job:
# the worker looks it up in the AIML API's usage logs for this long before it gives up
# (and refunds) rather than post a second job.
AIMLAPI_LOOKUP_WINDOW_SECONDS = env.int("AIMLAPI_LOOKUP_WINDOW_SECONDS", default=300)
# What one credit brings in, in USD, for the margins on the staff dashboard (the Stars a
# credit sells for, times what Telegram pays out per Star).
try:
    CREDIT_VALUE_USD = Decimal(env.str("CREDIT_VALUE_USD", default="0.01"))
except ArithmeticError:
    raise ImproperlyConfigured("CREDIT_VALUE_USD must be a decimal number of dollars, e.g. 0.01.") from None
# --- Growth: promo codes, the daily bonus, broadcasts (promotions, telegram_bot.broadcasts) ----
# Credits of the daily bonus, once per user per UTC day; 0 switches it off (404 NOT_FOUND).
DAILY_BONUS_CREDITS = env.int("DAILY_BONUS_CREDITS", default=0)
# Promo code attempts (failed ones too) a user may make per window, so codes cannot be guessed.
PROMO_RATE_LIMIT_ATTEMPTS = env.int("PROMO_RATE_LIMIT_ATTEMPTS", default=10)
PROMO_RATE_LIMIT_WINDOW_SECONDS = env.int("PROMO_RATE_LIMIT_WINDOW_SECONDS", default=600)
# Broadcasts: messages per second that all workers together send (Telegram allows about
# 30 a second per bot), calls to Telegram in flight per worker, and tries of a message
# whose send failed without reaching Telegram (network down, Telegram's 5xx).
BROADCAST_RATE_PER_SECOND = env.float("BROADCAST_RATE_PER_SECOND", default=25.0)
BROADCAST_SEND_CONCURRENCY = env.int("BROADCAST_SEND_CONCURRENCY", default=8)
BROADCAST_SEND_MAX_ATTEMPTS = env.int("BROADCAST_SEND_MAX_ATTEMPTS", default=3)
