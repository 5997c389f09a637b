"""gunicorn settings, read from the working directory by `gunicorn nanogen.wsgi`
(Procfile). Command-line flags (bind, workers) still win.

- Prometheus multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set, each worker
  writes its HTTP metrics there and /metrics adds all workers up. The directory is
  emptied when gunicorn starts (values of a previous run must not count), and a
  worker that exits is marked dead so its live gauges stop counting.
- gunicorn's own log lines go through NanoGen's JSON formatter when LOG_FORMAT is
  json (the production default), so every line the web process prints is JSON.
  There is no access log: the application logs one line per API request with its
  request id and user (core.middleware).
"""

import os
from pathlib import Path
from typing import Any

# Web workers: WEB_CONCURRENCY (the platform's convention) wins. The class and the
# default count were chosen by measurement on 2 cores (`make bench`, docs/operations.md,
# Benchmarks): gthread workers (4 threads) were not reliably faster for the start, and
# they decode up to two uploaded images at once per process, which took a worker to
# 250-320 MiB against the 200 MB budget that sync workers (one request at a time) keep.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"

_debug = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}
_json_logs = os.environ.get("LOG_FORMAT", "plain" if _debug else "json") == "json"

if _json_logs:
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
