"""`manage.py qcluster` enqueues due schedules every Q_SCHEDULER_TICK_SECONDS, not only
when Django-Q2's guard loop gets round to it (every 30 s or so): a ONCE schedule due in
two seconds runs a moment later, and with two clusters ticking at once, on either
broker, each due schedule is enqueued, and run, once. SIGTERM and SIGINT still stop the
whole cluster."""

import functools
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule, Task

from core.scheduling import task_schedule_once
from tests.chaos.helpers import qcluster
from tests.ops.processes import Process, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROBE = "tests.core.scheduled_probe.probe"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
SCHEDULES = 20
# Far more than a tick and a task need, and less than the ~30 s after which the guard
# loop's own scheduler would have run them anyway: the wait says nothing of speed.
GENEROUS_SECONDS = 20


@pytest.fixture(params=["orm", "redis"])
def broker_env(request, monkeypatch) -> dict[str, str]:
    if request.param == "orm":
        return {}
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    client.flushdb()
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    request.addfinalizer(client.flushdb)
    return {"REDIS_URL": REDIS_URL}


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)


def _running(log: Path) -> bool:
    return log.exists() and "running" in log.read_text()


def test_two_clusters_run_each_due_schedule_once_and_soon(broker_env, processes, tmp_path):
    logs = [tmp_path / "cluster-a.log", tmp_path / "cluster-b.log"]
    for log in logs:
        # Q_SAVE_LIMIT=0: the results of successful tasks are this test's record of each run.
        processes.append(qcluster(log, Q_SAVE_LIMIT="0", **broker_env).start())
    for log in logs:
        wait_for(functools.partial(_running, log), seconds=30, what=f"{log.name} to run")

    due = timezone.now() + timedelta(seconds=2)
    for index in range(SCHEDULES):  # all due at the same moment: both clusters' ticks race for them
        task_schedule_once(func=PROBE, due=due, name=f"probe {index}", args=(f"probe {index}",))

    def all_ran() -> bool:
        connection.close()
        return Task.objects.filter(func=PROBE).count() >= SCHEDULES

    wait_for(all_ran, seconds=2 + GENEROUS_SECONDS, what="every due schedule to run", every=0.2)
    connection.close()
    runs = Counter(Task.objects.filter(func=PROBE).values_list("result", flat=True))
    assert runs == {f"probe {index}": 1 for index in range(SCHEDULES)}
    assert all(task.started >= due for task in Task.objects.filter(func=PROBE))  # none ran early
    assert not Schedule.objects.filter(func=PROBE).exists()
    # Enqueued by a cluster's tick in its main process, not by the guard loop's scheduler.
    created = [line for log in logs for line in log.read_text().splitlines() if "from schedule [probe" in line]
    assert len(created) == SCHEDULES and all("MainProcess created task" in line for line in created), created


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_cluster_and_its_tick(signum, processes, tmp_path):
    log = tmp_path / "cluster.log"
    cluster = qcluster(log).start()
    processes.append(cluster)
    wait_for(functools.partial(_running, log), seconds=30, what="the cluster to run")
    assert cluster.popen is not None
    cluster.popen.send_signal(signum)  # to the main process only, as a process manager does

    exit_code = cluster.popen.wait(timeout=60)
    assert exit_code == 0, log.read_text()[-2000:]
    left = subprocess.run(["pgrep", "-g", str(cluster.popen.pid)], capture_output=True, text=True).stdout.split()
    assert left == []  # the sentinel, the pusher, the monitor and the workers are gone too
