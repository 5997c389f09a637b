"""End to end: `manage.py runbot` without TELEGRAM_WEBHOOK_URL long-polls; and it
refuses to start without a token or, in webhook mode, without a secret."""

import signal
import subprocess
import sys

import pytest

from accounts.models import User
from tests.fakes.telegram_updates import telegram_profile
from tests.telegram_bot.runbot import ROOT, RunBot, bot_env

pytestmark = [pytest.mark.e2e]


@pytest.mark.django_db(transaction=True)
def test_long_polling_handles_updates_and_stops_cleanly(tmp_path, fake_telegram):
    bot = RunBot(log=tmp_path / "runbot.log", env=bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_URL=""),
                 port=None).start()
    try:
        fake_telegram.wait_for("getUpdates", timeout=30)
        assert fake_telegram.calls_to("deleteWebhook")  # a webhook left from before would block getUpdates
        fake_telegram.push_update(
            {"update_id": 42, **_message(telegram_profile(8118, first_name="Polly"), "/start")})

        (reply,) = fake_telegram.wait_for("sendMessage", timeout=20)
        assert int(reply["chat_id"]) == 8118 and reply["text"].startswith("Hi, Polly!")
        assert User.objects.filter(telegram_id=8118).exists()

        assert bot.stop(signal.SIGTERM, timeout=30) == 0
        assert "bot stopped" in bot.output()
    finally:
        bot.kill()
        sys.stdout.write(bot.output()[-4000:])


def _message(profile, text):
    return {"message": {"message_id": 1, "date": 1_700_000_000, "chat": {"id": profile["id"], "type": "private"},
                        "from": profile, "text": text, "entities": [{"type": "bot_command", "offset": 0,
                                                                      "length": len(text)}]}}


def run_command(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "runbot"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_without_a_token_it_says_so_and_exits(fake_telegram):
    # A local run (DEBUG): runbot itself explains.
    result = run_command(bot_env(fake_telegram.base_url, TELEGRAM_BOT_TOKEN="", DATABASE_URL="sqlite://:memory:",
                                 DEBUG="true"))

    assert result.returncode == 1
    assert "TELEGRAM_BOT_TOKEN is not set, so there is no bot to run" in result.stderr
    # Production: the start-up check stops it (and every other process) first.
    result = run_command(bot_env(fake_telegram.base_url, TELEGRAM_BOT_TOKEN=""))

    assert result.returncode == 1
    assert "core.E007" in result.stderr and "without TELEGRAM_BOT_TOKEN" in result.stderr
    assert not fake_telegram.calls


@pytest.mark.parametrize("secret, problem", [
    ("", "TELEGRAM_WEBHOOK_SECRET is not set"),
    ("has spaces!", "TELEGRAM_WEBHOOK_SECRET may only have"),
])
def test_webhook_mode_without_a_proper_secret_refuses_to_start(fake_telegram, secret, problem):
    result = run_command(bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_SECRET=secret,
                                 DATABASE_URL="sqlite://:memory:"))

    assert result.returncode == 1
    assert problem in result.stderr
    assert not fake_telegram.calls


def test_a_plain_http_webhook_url_is_refused(fake_telegram):
    result = run_command(bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_URL="http://bot.nanogen.test/hook",
                                 DATABASE_URL="sqlite://:memory:"))

    assert result.returncode == 1
    assert "TELEGRAM_WEBHOOK_URL must be an https:// address" in result.stderr

