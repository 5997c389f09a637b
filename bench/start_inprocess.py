"""What one start (POST /api/generations) costs in this process, without HTTP or gunicorn.

`start_in_process(requests)` sends the same start as the load test to the project's
WSGI application, called as gunicorn's worker calls it (the environ of the load test's
request, the response iterated and closed, so Django's request_started and
request_finished run as in production), one at a time, each from the next seeded user
with a fresh idempotency key (so every answer is a real 201), and reports wall-clock
p50/p95 and the start's Python cost: the CPU time of this process per start
(`time.process_time`: what the web worker itself spends, not the waits for PostgreSQL,
which runs on the same machine and whose statements are timed apart through
`connection.execute_wrapper`; BEGIN, COMMIT and the connection's health check run
outside that wrapper and are not counted). Not Django's test client: it does per
request what no worker does (it connects and disconnects signal receivers, records
templates, encodes the body, attaches the request to the response) and leaves out what
every worker does (the end-of-request housekeeping of the connection). A second,
shorter pass under cProfile splits the Python cost into its phases (authentication,
body parsing, the start service, the enqueue, the rendering, the rest: middleware and
Django's request handling), scaled to the unprofiled mean.

It expects Django set up on a seeded bench database (bench/run.py does that). Run
alone, `python -m bench.start_inprocess [requests]` builds one (BENCH_DATABASE_URL,
default `nanogen_bench` on the server of DATABASE_URL: dropped and created afresh),
seeds it as `make bench` does, and prints the figures as JSON.
"""

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import run

# The first of the users bench/run.py seeds (Telegram ids run.FIRST_TELEGRAM_ID + 1 ...) that starts.
DEFAULT_FIRST_USER = 9000

# cProfile phases: the first function of each (by module and name) whose cumulative time
# counts as that phase. Anything else is "django_and_middleware".
PHASES: dict[str, tuple[tuple[str, str], ...]] = {
    # Both paths of the start authenticate through init_data_authenticate.
    "authentication": (("accounts/authentication.py", "init_data_authenticate"),),
    "body_validation": (("rest_framework/serializers.py", "is_valid"),
                        ("generations/api/generations.py", "start_body_parse")),
    "start_service": (("generations/services/start.py", "generation_start"),),
    "enqueue": (("django_q/tasks.py", "async_task"), ("core/queue.py", "task_enqueue_light")),
    "render": (("generations/api/generations.py", "generation_render"),),
}
# Phases that run inside another one (the enqueue runs on commit, inside the start).
NESTED: dict[str, tuple[str, ...]] = {"start_service": ("enqueue",)}


def start_in_process(requests: int, *, first_user: int = DEFAULT_FIRST_USER, profiled: int = 100) -> dict[str, Any]:
    """Time `requests` starts (after a few warm-up ones), then profile `profiled` more.

    Users `first_user`, `first_user + 1`, ... of the seeded ones (modulo run.USERS) start one
    generation each, so neither the rate nor the active limit is ever reached; pass a
    different `first_user` to run again on the same database.

    Returns requests, p50_ms, p95_ms (wall clock of the whole request), python_p50_ms,
    python_p95_ms and python_mean_ms (this process's CPU time per start), sql_mean_ms
    (in the driver's execute, round trips included), statements (per start, as the
    execute wrapper counts them) and python_breakdown_ms (mean per start,
    by phase).
    """
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from bench.load import percentile

    application = get_wsgi_application()  # what nanogen.wsgi gives gunicorn
    counter = iter(range(10**9))

    def one(timer: "_SqlTimer") -> tuple[float, float, float, int]:
        n = next(counter)
        telegram_id = run.FIRST_TELEGRAM_ID + 1 + (first_user + n) % run.USERS
        body = json.dumps({"model": "nano-banana", "prompt": "a red fox in the snow",
                           "idempotency_key": f"inproc-{first_user}-{n}"}).encode()
        environ = _environ(body, authorization=f"tma {run.init_data(telegram_id)}")
        timer.reset()
        began, began_cpu = time.perf_counter(), time.process_time()
        status, content = _wsgi_call(application, environ)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        if not status.startswith("201 "):
            raise RuntimeError(f"start answered {status}: {content[:500]!r}")
        return elapsed * 1000, cpu * 1000, timer.seconds * 1000, timer.statements

    timer = _SqlTimer()
    with connection.execute_wrapper(timer):
        for _ in range(5):  # warm up: imports, the connection, caches
            one(timer)
        totals, pythons, sqls, statements = [], [], [], []
        for _ in range(requests):
            total, cpu, sql, count = one(timer)
            totals.append(total)
            pythons.append(cpu)
            sqls.append(sql)
            statements.append(count)
        breakdown = _profile(lambda: one(timer), profiled) if profiled else {}

    python_mean = sum(pythons) / len(pythons)
    result: dict[str, Any] = {
        "requests": requests,
        "p50_ms": round(percentile(totals, 50), 2),
        "p95_ms": round(percentile(totals, 95), 2),
        "python_p50_ms": round(percentile(pythons, 50), 2),
        "python_p95_ms": round(percentile(pythons, 95), 2),
        "python_mean_ms": round(python_mean, 2),
        "sql_mean_ms": round(sum(sqls) / len(sqls), 2),
        "statements": max(statements),
    }
    if breakdown:
        # The profiler slows everything down; its shares are scaled to the unprofiled mean.
        scale = python_mean / breakdown.pop("_python_total")
        result["python_breakdown_ms"] = {phase: round(ms * scale, 2) for phase, ms in breakdown.items()}
    return result


def _environ(body: bytes, *, authorization: str) -> dict[str, Any]:
    """The WSGI environ gunicorn builds for the load test's request (bench/start.lua)."""
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/api/generations", "RAW_URI": "/api/generations",
        "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": authorization,
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http", "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def _wsgi_call(application: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, bytes]:
    """Call `application` as a WSGI server does: its status and body; the response closed
    (Django's request_finished: the connection's end-of-request housekeeping)."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    result = application(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        result.close()
    return statuses[0], content


class _SqlTimer:
    """An execute_wrapper: time spent in the driver (round trips included), and statements."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seconds = 0.0
        self.statements = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began
            self.statements += 1


def _profile(one: Callable[[], tuple[float, float, float, int]], requests: int) -> dict[str, float]:
    """Mean CPU milliseconds per start by phase, under cProfile timing with the process's
    CPU clock (so waits for PostgreSQL count for nothing), plus `_python_total`."""
    profiler = cProfile.Profile(time.process_time)
    cpu_ms = 0.0
    for _ in range(requests):
        profiler.enable()
        _total, cpu, _sql, _count = one()
        profiler.disable()
        cpu_ms += cpu
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    cumulative: dict[str, float] = {}
    for phase, functions in PHASES.items():
        cumulative[phase] = sum(
            entry[3] for (filename, _line, name), entry in stats.items()
            if any(filename.endswith(path) and name == wanted for path, wanted in functions)
        )
    phases: dict[str, float] = {}
    for phase in PHASES:
        # Without the phases it calls: its own share.
        own = cumulative[phase] - sum(cumulative[inner] for inner in NESTED.get(phase, ()))
        phases[phase] = max(0.0, own * 1000 / requests)
    python_total = cpu_ms / requests
    phases["django_and_middleware"] = max(0.0, python_total - sum(phases.values()))
    phases["_python_total"] = python_total
    return phases


def _bench_database(*, reuse: bool) -> None:
    url = run.bench_database_url()
    if reuse:  # seeded by an earlier run: another range of users starts now
        run.django_setup(url)
        return
    run.database_recreate(url)
    run.migrate(url)
    run.django_setup(url)
    _users_seed()
    run.vacuum_analyze(url)


def _users_seed() -> None:
    """The users bench/run.py seeds (no history: a start reads only the user's own rows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, telegram_id, username, first_name, last_name,
                language_code, is_premium, credits, is_banned, is_reachable, referral_code, is_staff, is_active,
                created_at, updated_at)
            SELECT '!', false, %(first)s + i, 'user' || i, 'User', '', CASE WHEN i %% 3 = 0 THEN 'ru' ELSE 'en' END,
                false, 1000000, false, true, 'b' || (%(first)s + i), false, true, now(), now()
            FROM generate_series(1, %(users)s) AS i
            """,
            {"first": run.FIRST_TELEGRAM_ID, "users": run.USERS},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", type=int, nargs="?", default=500)
    parser.add_argument("--first-user", type=int, default=DEFAULT_FIRST_USER)
    parser.add_argument("--profiled", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="the bench database as an earlier run left it")
    args = parser.parse_args()
    _bench_database(reuse=args.reuse)
    print(json.dumps(start_in_process(args.requests, first_user=args.first_user, profiled=args.profiled), indent=2))


if __name__ == "__main__":
    main()
