"""`make run` uses SQLite: the money paths and a generation's way to the chat must work
there too, not only on PostgreSQL (several hot statements have a PostgreSQL form).

Runs in a subprocess with its own SQLite file, so the suite's PostgreSQL settings are
not involved; it checks that a start debits once, a refusal debits nothing, a cancel
refunds, and `audit_ledger` holds; and that a generation started in the chat is run by
the worker's step with the demo provider (its task taken from the queue as the cluster
takes it) and its result sent to (a fake of) Telegram.
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from accounts.models import CreditKind, User
from accounts.services import credits_change
from generations.services import generation_cancel, generation_start
from accounts.errors import InsufficientCredits

user = User.objects.create(telegram_id=5, first_name="Local")
credits_change(user_id=user.pk, amount=25, kind=CreditKind.GRANT)
first = generation_start(user=user, model_slug="nano-banana", prompt="hello sqlite", idempotency_key="k1")
generation_start(user=user, model_slug="nano-banana", prompt="again")
try:
    generation_start(user=user, model_slug="nano-banana", prompt="third")
except InsufficientCredits as refused:
    print("refused", refused.details["balance"], refused.details["price"])
generation_cancel(user=user, generation_id=first.pk)
print("balance", User.objects.get(pk=user.pk).credits)
"""


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def local_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`make run`'s settings: DEBUG, a SQLite file, local media."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nanogen.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'local.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def test_money_paths_work_on_sqlite(tmp_path):
    env = local_env(tmp_path)
    run(["migrate", "-v0"], env)
    out = run(["shell", "-c", SCRIPT], env)
    assert "refused 5 10" in out
    assert "balance 15" in out
    assert "All money rules hold" in run(["audit_ledger"], env)


CHAT_SCRIPT = """
from accounts.models import CreditKind, User
from accounts.services import credits_change
from django_q.brokers import get_broker
from generations.models import Generation
from generations.services import generation_start
from generations.tasks import generation_run
from telegram_bot.models import GenerationNotification, StatusMessage

user = User.objects.create(telegram_id=77, first_name="Local")
credits_change(user_id=user.pk, amount=25, kind=CreditKind.GRANT)
generation = generation_start(user=user, model_slug="nano-banana", prompt="a boat on sqlite")
StatusMessage.objects.create(generation=generation, chat_id=77, message_id=1)
print("queued", [task for _, task in get_broker().dequeue() or []] != [])
print("step", generation_run(generation.pk))
print("status", Generation.objects.get(pk=generation.pk).status)
print("notification", GenerationNotification.objects.get(generation=generation).status)
"""


def test_a_chat_generation_reaches_the_chat_on_sqlite(tmp_path):
    with FakeTelegram() as telegram:
        env = local_env(tmp_path, AIMLAPI_KEY="", REDIS_URL="", TELEGRAM_BOT_TOKEN="123456:TEST-token",
                        TELEGRAM_API_BASE_URL=telegram.base_url)
        run(["migrate", "-v0"], env)
        out = run(["shell", "-c", CHAT_SCRIPT], env)
        photos = telegram.calls_to("sendPhoto")
    assert "queued True" in out, out  # the start's task is one the cluster can take
    assert "status completed" in out, out
    assert "notification sent" in out, out
    assert [str(call["chat_id"]) for call in photos] == ["77"]
