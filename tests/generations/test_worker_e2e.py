"""End to end: a real `manage.py qcluster` process on the test database runs generations
with the demo provider; SIGKILLed in the middle of one, the generation still ends."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.views.static import serve
from django_q.models import Success

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import AIModel, Generation
from tests.factories import AIModelFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
Q_TIMEOUT = 6
# Well above the lease (task timeout + 5 s), so the redelivered task finds the dead worker's lease expired.
Q_RETRY = 14
DEMO_DELAY = Q_TIMEOUT / 4  # the longest the demo image may take: the window in which the worker is killed


def database_url() -> str:
    db = connection.settings_dict  # the test database (test_<name>), which the worker must use
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`python manage.py qcluster` in its own process group, so SIGKILL takes all its processes."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            # The bot's notifications go to the fake Bot API of the test (fake_telegram).
            "TELEGRAM_API_BASE_URL": settings.TELEGRAM_API_BASE_URL,
            "AIMLAPI_KEY": "",
            "DEMO_PROVIDER_DELAY_SECONDS": str(DEMO_DELAY),
            "Q_WORKERS": "1",
            "Q_TIMEOUT": str(Q_TIMEOUT),
            "Q_RETRY": str(Q_RETRY),
            # Timeouts that fit the short task timeout (the demo makes no HTTP calls anyway).
            "AIMLAPI_READ_TIMEOUT_SECONDS": "0.5",
            "GENERATION_RESULT_READ_TIMEOUT_SECONDS": "0.5",
            "AIMLAPI_CONNECT_TIMEOUT_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

@pytest.fixture
def worker(tmp_path, fake_telegram) -> Iterator[Worker]:
    worker = Worker(tmp_path / "qcluster.log")
    try:
        yield worker
    finally:
        worker.kill()  # a graceful stop takes Django-Q2 ~15 s; nothing to keep here
        if worker.log.exists():
            sys.stdout.write(worker.log.read_text()[-4000:])  # shown when the test fails


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def status_of(generation: Generation) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=generation.pk)


def start_through_the_api(client, model: AIModel, prompt: str) -> Generation:
    response = client.post("/api/generations", {"model": model.slug, "prompt": prompt}, format="json")
    assert response.status_code == 201, response.content
    return Generation.objects.get(pk=response.json()["id"])


def test_a_worker_process_runs_a_generation_and_survives_sigkill(owner, owner_client, worker, fake_telegram,
                                                                  audit_passes):
    model = AIModelFactory.create(kind=AIModel.Kind.IMAGE, provider=AIModel.Provider.DEMO, price=2, name="Demo")
    credits_give(owner, 10)
    worker.start()

    # 1. A generation started through the API (enqueued on commit) completes.
    first = start_through_the_api(owner_client, model, "a lighthouse in a storm")
    wait_for(lambda: status_of(first) == "completed", seconds=30, what="the first generation to complete")

    first.refresh_from_db()
    assert first.result_content_type == "image/png"
    response = serve(RequestFactory().get(first.result_file.url), first.result_file.name,
                     document_root=settings.MEDIA_ROOT)
    body = response.getvalue()
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    # The step that completed it also told the user (the bot's notification, run in the
    # same task): the picture in the user's chat with the prompt as caption, once.
    fake_telegram.wait_for("sendPhoto", timeout=15)
    assert not Success.objects.filter(func="telegram_bot.tasks.generation_notify").exists()
    (photo,) = fake_telegram.calls_to("sendPhoto")
    assert int(photo["chat_id"]) == owner.telegram_id
    assert (photo["caption"], photo["photo"].content) == ("a lighthouse in a storm", body)

    # 2. The worker is SIGKILLed while it renders the next one.
    second = start_through_the_api(owner_client, model, "a slow sunrise")
    wait_for(lambda: status_of(second) == "processing", seconds=30, what="the second generation to be claimed")
    worker.kill()
    assert status_of(second) == "processing"

    # 3. A new worker gets the unacknowledged task again after Q_RETRY; the dead
    # worker's lease has run out by then, so it takes the generation over.
    worker.start()
    wait_for(lambda: status_of(second) in ("completed", "failed"), seconds=Q_RETRY + 30,
             what="the killed generation to end")

    second.refresh_from_db()
    assert (second.status, second.attempts) == ("completed", 2)
    fake_telegram.wait_for("sendPhoto", count=2, timeout=15)
    assert [call["caption"] for call in fake_telegram.calls_to("sendPhoto")] == [
        "a lighthouse in a storm", "a slow sunrise"]
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_REFUND).count() == 0
    owner.refresh_from_db()
    assert owner.credits == 10 - 2 * model.price  # two charges, no refund, nothing lost
    call_command("audit_ledger")
