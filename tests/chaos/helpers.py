"""Helpers of the chaos tests: worker processes, money conservation, waiting for every generation to end."""

import sys
import threading
import time
from pathlib import Path

from django.db import connection
from django.db.models import Sum

from accounts.audit import audit_run
from accounts.models import CreditKind, CreditLedgerEntry, User
from generations.models import Generation
from generations.services.sweeper import generations_sweep
from tests.ops.processes import Process, child_env

CREDITS_EACH = 1000


def granted() -> int:
    return CreditLedgerEntry.objects.filter(kind=CreditKind.GRANT).aggregate(total=Sum("amount"))["total"] or 0


def assert_money_conserved() -> None:
    """Every credit granted is either on a balance or paid for a generation that was
    not refunded: none was created or lost, and every money rule holds."""
    connection.close()  # the chaos may have killed this connection too
    balances = User.objects.aggregate(total=Sum("credits"))["total"] or 0
    spent = Generation.objects.filter(refunded=False).aggregate(total=Sum("credits_charged"))["total"] or 0
    assert balances + spent == granted(), (balances, spent, granted())
    problems = {check: found for check, found in audit_run().items() if found}
    assert not problems, problems


def assert_every_generation_ended() -> None:
    live = list(Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES).values_list("pk", "status"))
    assert not live, live


def worker_env(**extra: str) -> dict[str, str]:
    """A qcluster with short task timeouts (so a dead worker's lease runs out in
    seconds), the offline demo provider, and JSON logs."""
    return child_env(
        AIMLAPI_KEY="",
        Q_WORKERS="2",
        Q_TIMEOUT="3",
        Q_RETRY="10",
        AIMLAPI_READ_TIMEOUT_SECONDS="0.5",
        AIMLAPI_CONNECT_TIMEOUT_SECONDS="0.5",
        GENERATION_RESULT_READ_TIMEOUT_SECONDS="0.5",
        LOG_FORMAT="json",
        **extra,
    )


def qcluster(log: Path, **env: str) -> Process:
    return Process([sys.executable, "manage.py", "qcluster"], env=worker_env(**env), log=log)


class Sweeper:
    """The sweeper schedule, run every `every` seconds in a thread (the real schedule
    runs every minute; the chaos tests cannot wait that long)."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.errors: list[BaseException] = []

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    generations_sweep()
                except Exception as exc:  # a connection killed under it: the next sweep goes on
                    self.errors.append(exc)
                finally:
                    connection.close()
        finally:
            connection.close()

    def __enter__(self) -> "Sweeper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def wait_until_all_ended(*, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES).exists():
        connection.close()
        assert time.monotonic() < deadline, list(
            Generation.objects.filter(status__in=Generation.ACTIVE_STATUSES).values("pk", "status", "next_check_at",
                                                                                     "attempts")
        )
        time.sleep(0.2)
