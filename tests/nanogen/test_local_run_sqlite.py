"""`make run` uses SQLite: the money paths must work there too, not only on PostgreSQL.

Runs in a subprocess with its own SQLite file, so the suite's PostgreSQL settings are
not involved; it checks that a start debits once, a refusal debits nothing, a cancel
refunds, and `audit_ledger` holds.
"""

import os
import subprocess
import sys
from pathlib import Path

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


def test_money_paths_work_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nanogen.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'local.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
    }
    run(["migrate", "-v0"], env)
    out = run(["shell", "-c", SCRIPT], env)
    assert "refused 5 10" in out
    assert "balance 15" in out
    assert "All money rules hold" in run(["audit_ledger"], env)
