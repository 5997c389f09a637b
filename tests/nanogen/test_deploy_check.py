"""Production settings pass `manage.py check --deploy` with no warning at all, and
refuse to start without a SECRET_KEY. Run in a subprocess with only a production
environment (no test settings)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "HOME": os.environ.get("HOME", "/tmp"),
    "DJANGO_SETTINGS_MODULE": "nanogen.settings",
    "SECRET_KEY": "k3J9-production-like-secret-key-that-is-long-and-random-8f2a61c0d4e7b95",
    "DATABASE_URL": "postgres://nanogen:secret@db.internal:5432/nanogen",
    "ALLOWED_HOSTS": "nanogen.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://nanogen.example.com",
    "TELEGRAM_BOT_TOKEN": "123456789:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8",
    "TELEGRAM_BOT_USERNAME": "nanogen_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.nanogen.example.com/telegram",
    "TELEGRAM_WEBHOOK_SECRET": "Zq8v2LkP0wXy7RtB4nM6cJ1hG5dF3sA9",
    "MINI_APP_URL": "https://nanogen.example.com/",
    "ADMIN_ALERT_CHAT_ID": "-1001234567890",
    "TELEGRAM_SUPPORT_CONTACT": "@nanogen_support",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "METRICS_TOKEN": "0V1bq3Zr5mJ8kT2wX7yN4cE6hA9sD1fG",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**PRODUCTION_ENV, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_check_deploy_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_short_metrics_token_is_flagged():
    result = manage("check", "--deploy", "--fail-level", "WARNING", METRICS_TOKEN="short")
    assert result.returncode != 0 and "ops.W001" in result.stdout + result.stderr


S3_ENV = {
    "MEDIA_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "nanogen-media",
    "AWS_S3_ENDPOINT_URL": "https://objects.example.net",
    "AWS_S3_REGION_NAME": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


def test_check_deploy_is_clean_with_media_in_an_object_store():
    # SERVE_MEDIA defaults to off with s3 (else core.W001).
    result = manage("check", "--deploy", "--fail-level", "WARNING", **S3_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("env", "code"), [
    ({"AWS_STORAGE_BUCKET_NAME": ""}, "core.E002"),
    ({"MEDIA_STORAGE": "S3"}, "core.E001"),
    ({"AWS_SECRET_ACCESS_KEY": ""}, "core.E003"),
    ({"AWS_QUERYSTRING_EXPIRE": "0"}, "core.E004"),
    ({"AWS_S3_ADDRESSING_STYLE": "host"}, "core.E005"),
    ({"SERVE_MEDIA": "true"}, "core.W001"),
])
def test_object_store_settings_that_cannot_work_stop_the_checks(env, code):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**S3_ENV, **env})
    assert result.returncode != 0 and code in result.stdout + result.stderr, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_procfile_runs_web_worker_bot_and_migrates_on_release():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(processes) == {"release", "web", "worker", "bot"}
    assert "manage.py migrate" in processes["release"]
    assert "gunicorn nanogen.wsgi" in processes["web"]
    assert "PROMETHEUS_MULTIPROC_DIR" in processes["web"]
    assert processes["worker"].strip() == "python manage.py qcluster"
    assert processes["bot"].strip() == "python manage.py runbot"
