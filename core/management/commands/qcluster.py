"""`manage.py qcluster`: Django-Q2's cluster, with its schedules run on time.

Django-Q2's own command starts the cluster and leaves this process idle; its scheduler
runs in the cluster's guard loop only about every 30 seconds, so a video poll, a
provider retry or a notification retry due in 5 seconds would run up to 30 seconds
late. This command (it replaces Django-Q2's: `core` comes before `django_q` in
INSTALLED_APPS) starts the same cluster, then uses this process to enqueue due
schedules every Q_SCHEDULER_TICK_SECONDS (`core.scheduling.schedules_run_due`) until
the cluster stops. The guard loop's own scheduler still runs too, as a fallback.
"""

import os
import signal
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import connections
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from core.scheduling import schedules_tick


class Command(DjangoQCommand):  # type: ignore[misc]  # django_q ships no types
    help = "Starts a Django-Q2 cluster and enqueues its due schedules every Q_SCHEDULER_TICK_SECONDS."

    def handle(self, *args: Any, **options: Any) -> None:
        # As Django-Q2's command: signing needs the SECRET_KEY; a name picks the queue.
        settings.SECRET_KEY  # noqa: B018
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        # The cluster's processes are forked from this one: none may inherit a connection
        # that this process goes on using.
        connections.close_all()
        cluster = Cluster()
        cluster.start()
        if cluster.stop_event is None:
            return  # stopped by a signal while it started
        if options.get("run_once", False):
            cluster.stop()
            return
        # Django-Q2's own handler stops the cluster inside the signal handler, taking the
        # locks of the cluster's multiprocessing Event: if the signal came while this
        # process was using that Event, it would wait on itself forever. Here the
        # handler only raises a flag; the cluster is stopped after the tick in progress.
        stopping: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        sentinel = cluster.sentinel
        schedules_tick(
            every=settings.Q_SCHEDULER_TICK_SECONDS,
            running=lambda: not stopping and sentinel.is_alive(),
            wait=time.sleep,
        )
        cluster.stop()
