"""`make bench`: NanoGen's benchmarks, written to bench/reports/ (Markdown and JSON).

1. The start endpoint (POST /api/generations) under wrk against gunicorn as the Procfile
   runs it, at 1, 8 and 32 connections, every request a real 201 (fresh users, unique
   idempotency keys); the plain-view ceiling (bench/ceiling.py) with no middleware and
   with the project's; the gunicorn matrix (sync/gthread, 2-5 workers); the start's cost
   in process (bench/start_http.py). `--only start` runs this part alone.
2. The same statements as raw SQL through pgbench at the same concurrency (the
   limit the database allows on this machine), and the same-run ratios.
3. History page (GET /api/generations) latency with 10 thousand and with one million
   generations in the table; also the staff dashboard and a /metrics scrape at 1M.
4. The worker (bench/worker.py): throughput of 2 worker processes against a fake AIML API
   and a fake Bot API, 201 -> completed -> photo latency, scheduled steps' lateness, on
   the ORM broker and on Redis. `--only worker` runs this part alone.
5. Uploads (bench/uploads.py): POST /api/uploads latency with a 10 MB JPEG, and the web
   workers' memory while 4 uploads of 40-megapixel images run at once (gunicorn as the
   Procfile runs it). `--only uploads` runs this part alone.
6. A broadcast to `--broadcast-users` seeded users (default 100,000) by a qcluster against
   the fake Bot API with Telegram's 30/s limit: its rate, 429s, worker memory, and a SIGKILL
   in the middle with no duplicates (bench/broadcast.py). `--only broadcast` runs it alone.

Goal 4 (bench/plans.py, `--only plans`): every statement of the start, history, detail,
quote and the sweeper EXPLAIN (ANALYZE, BUFFERS)'d at 10 thousand and at a million
generations (and as many ledger rows), side by side.

Everything runs on this machine against a database of its own (BENCH_DATABASE_URL,
default `nanogen_bench` on the server of DATABASE_URL), dropped and created afresh.
Parts whose tools are missing (wrk, pgbench, Redis) are skipped and the report says so.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "bench" / "reports"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"
BOT_TOKEN = "123456:BENCH-TOKEN"
USERS = 10_000
FIRST_TELEGRAM_ID = 900_000_000
HISTORY_TELEGRAM_ID = 800_000_001
HISTORY_OWN_GENERATIONS = 100
STATIC_ROOT = Path(tempfile.gettempdir()) / "nanogen-bench-static"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Environment ----------------------------------------------------------------------


def bench_database_url() -> str:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/nanogen")
    if base.scheme not in ("postgres", "postgresql", "pgsql"):
        base = urlsplit("postgres://postgres@127.0.0.1:5432/nanogen")
    return urlunsplit(base._replace(path="/nanogen_bench", query=""))


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off, JSON logs) on the bench database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nanogen.settings",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_BOT_USERNAME": "nanogen_bench_bot",
        # Never the real Bot API (notifications of finished generations): nothing listens there.
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
        "AIMLAPI_KEY": "",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # The web process refuses to boot without collected static files (core.E008):
        # `migrate` collects them here, as the Procfile's release phase does.
        "STATIC_ROOT": str(STATIC_ROOT),
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine_info(database_url: str) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory_gib = round(kib / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    import django
    import psycopg

    with psycopg.connect(_psycopg_url(database_url)) as connection:
        server_version = (connection.execute("SHOW server_version").fetchone() or ("unknown",))[0]
        settings: dict[str, str] = dict(connection.execute(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
            [["shared_buffers", "max_connections", "synchronous_commit", "fsync"]],
        ).fetchall())
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": server_version,
        "postgresql_settings": settings,
        "pgbench": _pgbench_version(),
    }


def _pgbench_version() -> str | None:
    path = shutil.which("pgbench")
    if not path:
        return None
    return subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout.strip()


def _psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


# --- Database -------------------------------------------------------------------------


def database_recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(_psycopg_url(maintenance), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str) -> None:
    os.environ.update(child_env(url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate(url: str) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=child_env(url),
                   check=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=child_env(url),
                   check=True)


def seed(*, users: int, generations: int, first_telegram_id: int, days: int = 365, credits: int = 1000,
         rebuild_indexes: bool = False) -> float:
    from django.db import connection, transaction

    from bench.seed import seed_history

    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        seed_history(cursor, users=users, generations=generations, days=days, first_telegram_id=first_telegram_id,
                     credits=credits, rebuild_indexes=rebuild_indexes)
    return time.monotonic() - started


def history_user_create() -> None:
    """A user with HISTORY_OWN_GENERATIONS generations of their own, the same in every run."""
    from django.db import connection

    from accounts.models import User
    from generations.models import AIModel

    # Credits for the starts whose plans goal 4 takes (bench/plans.py; rolled back).
    user = User.objects.create(telegram_id=HISTORY_TELEGRAM_ID, first_name="History", language_code="en",
                               credits=1_000_000)
    model = AIModel.objects.get(slug="nano-banana")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO generations_generation (user_id, model_id, kind, prompt, params, status, credits_charged,
                refunded, payload_hash, result_file, result_content_type, error_code, error_message,
                provider_job_id, attempts, timeout_at, created_at, started_at, finished_at)
            SELECT %s, %s, 'image', 'history ' || i, '{}'::jsonb, 'completed', 10, false, md5(i::text),
                'generations/history/' || i || '.png', 'image/png', '', '', '', 1,
                now() + interval '15 minutes', now() - make_interval(mins => i), now() - make_interval(mins => i),
                now() - make_interval(mins => i) + interval '5 seconds'
            FROM generate_series(1, %s) AS i
            """,
            [user.pk, model.pk, HISTORY_OWN_GENERATIONS],
        )


def generation_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generations_generation")
        return cursor.fetchone()[0]


def vacuum_analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(_psycopg_url(url), autocommit=True) as connection:
        for table in ("generations_generation", "accounts_creditledgerentry", "accounts_user", "payments_payment"):
            connection.execute(f"VACUUM ANALYZE {table}")


def database_settle(url: str) -> None:
    """The aftermath of a load done before a CPU measurement: the tables vacuumed, a
    checkpoint written and no autovacuum worker running (up to 30 s), so that on two
    cores the measured process does not share them with the database's housekeeping."""
    import psycopg

    vacuum_analyze(url)
    with psycopg.connect(_psycopg_url(url), autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'").fetchone()
            if not row or not row[0]:
                break
            time.sleep(0.5)


# --- Processes --------------------------------------------------------------------------


class Child:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args, self.env, self.log_path = args, env, log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Child":
        with self.log_path.open("ab") as output:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def gunicorn(url: str, port: int, log_path: Path, *, settings: str = "nanogen.settings", workers: int | None = None,
             worker_class: str | None = None, threads: int | None = None, **extra: str) -> Child:
    """gunicorn as the Procfile runs it (gunicorn.conf.py decides what is not given here)."""
    env = child_env(url, PROMETHEUS_MULTIPROC_DIR=str(log_path.parent / "prometheus"), DJANGO_SETTINGS_MODULE=settings,
                    **extra)
    args = [sys.executable, "-m", "gunicorn", "nanogen.wsgi", "--bind", f"127.0.0.1:{port}"]
    if workers is not None:
        args += ["--workers", str(workers)]
    if worker_class is not None:
        args += ["--worker-class", worker_class]
    if threads is not None:
        args += ["--threads", str(threads)]
    return Child(args, env, log_path)


def wait_until(condition: Any, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.1)


def http_ok(port: int) -> bool:
    from bench.load import send

    try:
        return send(port, ("GET", "/api/health", None, {}), timeout=2)[0] == 200
    except OSError:
        return False


# --- 1. The start endpoint under load ----------------------------------------------------


def init_data(telegram_id: int) -> str:
    from accounts.telegram_init_data import init_data_sign

    user = json.dumps({"id": telegram_id, "first_name": "User", "username": f"user{telegram_id - FIRST_TELEGRAM_ID}",
                       "language_code": "ru" if (telegram_id - FIRST_TELEGRAM_ID) % 3 == 0 else "en"})
    return init_data_sign({"auth_date": str(int(time.time())), "query_id": "AAHbench", "user": user},
                          bot_token=BOT_TOKEN)


def start_reset() -> None:
    """Between two loads: the bench's pending generations cancelled, the last minute's
    moved out of the rate window (a fast load goes round all the users within a minute)
    and the queue emptied (no worker runs during the start benchmark), so each load meets
    the same limits."""
    from django.db import connection

    users = ("user_id IN (SELECT id FROM accounts_user WHERE telegram_id > %s AND telegram_id <= %s)",
             [FIRST_TELEGRAM_ID, FIRST_TELEGRAM_ID + USERS])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE generations_generation SET status = 'cancelled', finished_at = now() "
                       f"WHERE status IN ('pending', 'processing') AND {users[0]}", users[1])
        cursor.execute("UPDATE generations_generation SET created_at = created_at - interval '61 seconds' "
                       f"WHERE created_at > now() - interval '61 seconds' AND {users[0]}", users[1])
        cursor.execute("DELETE FROM django_q_ormq")
    connection.close()


# --- 2. pgbench ----------------------------------------------------------------------------


def pgbench(url: str, concurrency: int, seconds: float, workdir: Path) -> dict | None:
    from django.db import connection

    from bench.load import percentile
    from generations.models import AIModel

    path = shutil.which("pgbench")
    if not path:
        return None
    model = AIModel.objects.get(slug="nano-banana")
    connection.close()
    script = (ROOT / "bench" / "start.pgbench").read_text()
    script = script.replace("@MODEL_ID@", str(model.pk)).replace("@PRICE@", str(model.price)).replace(
        "@SLUG@", model.slug)
    script_path = workdir / "start.sql"
    script_path.write_text(script)
    logs = workdir / f"pgbench-{concurrency}"
    logs.mkdir(exist_ok=True)
    parts = urlsplit(url)
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    args = [path, "-n", "-M", "prepared", "-f", str(script_path), "-c", str(concurrency),
            "-j", str(min(concurrency, os.cpu_count() or 1)), "-T", str(int(seconds)), "-D", f"users={USERS}",
            "-l", "--log-prefix", str(logs / "tx"), "-h", parts.hostname or "127.0.0.1",
            "-p", str(parts.port or 5432), "-U", parts.username or "postgres", parts.path.lstrip("/")]
    completed = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"pgbench failed: {completed.stderr[-2000:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", completed.stdout).group(1))
    latencies = []
    for log_file in logs.glob("tx*"):
        for line in log_file.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1000)
    failed = re.search(r"number of failed transactions: (\d+)", completed.stdout)
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "transactions": len(latencies),
        "failed": int(failed.group(1)) if failed else 0,
        "throughput_per_s": round(tps, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


# --- 3. History, dashboard, metrics ------------------------------------------------------------


def history_latency(port: int, requests: int) -> dict:
    from bench.load import percentile, send

    headers = {"Authorization": f"tma {init_data(HISTORY_TELEGRAM_ID)}"}
    pages = ["/api/generations", "/api/generations?page_size=50", "/api/generations?status=completed"]
    for i in range(30):  # warm every gunicorn worker and the buffers first
        status, _ = send(port, ("GET", pages[i % len(pages)], None, headers))
        assert status == 200, (pages[i % len(pages)], status)
    latencies = []
    for i in range(requests):
        began = time.monotonic()
        status, _ = send(port, ("GET", pages[i % len(pages)], None, headers))
        latencies.append((time.monotonic() - began) * 1000)
        assert status == 200
    return {
        "requests": requests,
        "own_generations": HISTORY_OWN_GENERATIONS,
        "plan": history_plan(),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def history_plan() -> dict:
    """The first page's query, EXPLAIN ANALYZE'd: its cost in buffers does not depend on
    the machine's load, so it shows whether the cost stays flat as the table grows."""
    from django.db import connection

    from accounts.models import User
    from generations.selectors import generation_list_for_user

    user = User.objects.get(telegram_id=HISTORY_TELEGRAM_ID)
    page = generation_list_for_user(user=user)[:21]
    plan = page.explain(analyze=True, buffers=True)
    connection.close()
    # The top node's "Buffers:" line counts the pages of the whole query.
    first = next((line for line in plan.splitlines() if "Buffers:" in line), "")
    buffers = sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", first))
    top = [line.strip() for line in plan.splitlines() if "Scan" in line]
    return {"scan": top[0].split("  (")[0] if top else "", "buffers": buffers,
            "execution_ms": float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))}


def dashboard_and_metrics() -> dict:
    """In-process (Django's test client): the staff dashboard and /metrics at this size."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    from accounts.models import User
    from bench.load import percentile
    from ops.metrics import running_totals_reset

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    # No collectstatic here: the admin's templates name static files without a manifest.
    static = override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
    static.enable()
    staff = User.objects.create_superuser(email="bench@example.com", password="bench-password-1")
    client = Client()
    client.force_login(staff)
    figures: dict[str, Any] = {}
    for days in (30, 365):
        timings = []
        for _ in range(4):
            began = time.monotonic()
            assert client.get("/admin/dashboard/", {"days": days}).status_code == 200
            timings.append((time.monotonic() - began) * 1000)
        figures[f"dashboard_{days}_days_ms"] = {"first": round(timings[0], 1),
                                                "median_warm": round(percentile(timings[1:], 50), 1)}
    settings.METRICS_TOKEN = "bench-metrics-token-0123456789abcdef"
    running_totals_reset()
    authorization = f"Bearer {settings.METRICS_TOKEN}"
    began = time.monotonic()
    assert client.get("/metrics", HTTP_AUTHORIZATION=authorization).status_code == 200
    first = (time.monotonic() - began) * 1000
    steady = []
    for _ in range(5):
        began = time.monotonic()
        assert client.get("/metrics", HTTP_AUTHORIZATION=authorization).status_code == 200
        steady.append((time.monotonic() - began) * 1000)
    figures["metrics_scrape_ms"] = {"first_ever": round(first, 1), "steady_median": round(percentile(steady, 50), 1)}
    static.disable()
    return figures


# --- 4. Worker throughput ---------------------------------------------------------------------


def queue_clear() -> None:
    """The start benchmark left thousands of pending generations and their tasks (and
    pgbench fake ones); the worker benchmark must run only its own. End them and empty
    the queue and the schedules (the sweeper would enqueue them again)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE generations_generation SET status = 'cancelled', finished_at = now() "
                       "WHERE status IN ('pending', 'processing')")
        cursor.execute("DELETE FROM django_q_ormq")
        cursor.execute("DELETE FROM django_q_schedule")


# --- 5. Uploads -----------------------------------------------------------------------------------

UPLOAD_FIRST_TELEGRAM_ID = 700_000_001
UPLOAD_LATENCY_REQUESTS = 20
UPLOAD_CONCURRENCY = 4


def upload_init_data(index: int) -> str:
    from accounts.telegram_init_data import init_data_sign

    user = json.dumps({"id": UPLOAD_FIRST_TELEGRAM_ID + index, "first_name": "Uploader", "language_code": "en"})
    return init_data_sign({"auth_date": str(int(time.time())), "query_id": "AAHbench", "user": user},
                          bot_token=BOT_TOKEN)


def uploads(url: str, workdir: Path) -> dict[str, Any]:
    from bench import uploads as bench_uploads

    max_bytes = 10 * 1024 * 1024  # UPLOAD_MAX_BYTES' default
    log("making the upload benchmark's images (a 24 MP and a 40 MP photo, a 40 MP screenshot)")
    ten_mb_jpeg = bench_uploads.jpeg_near(bench_uploads.photo((6000, 4000)), max_bytes)
    forty = bench_uploads.forty_megapixels()
    forty_photo = bench_uploads.photo(forty, seed=11)
    forty_jpeg = bench_uploads.jpeg_near(forty_photo, max_bytes)
    forty_webp = bench_uploads.webp_near(forty_photo, max_bytes)
    # The largest WebP accepted (UPLOAD_WEBP_MAX_PIXELS' default): 3000 x 2000.
    six_webp = bench_uploads.webp_near(forty_photo.resize((3000, 2000)), max_bytes)
    del forty_photo
    forty_png = bench_uploads.png_bytes(bench_uploads.screenshot(forty))
    if len(forty_png) > max_bytes:
        raise RuntimeError(f"the 40 MP PNG is {len(forty_png)} bytes, over the upload limit")

    from bench.start_http import gunicorn_config

    config = gunicorn_config()
    workers = int(config["workers"])
    port = free_port()
    server = gunicorn(url, port, workdir / "gunicorn-uploads.log", MEDIA_ROOT=str(workdir / "media"))
    result: dict[str, Any] = {"workers": workers, "worker_class": config["worker_class"], "threads": config["threads"]}
    with server:
        wait_until(lambda: http_ok(port), seconds=60, what="gunicorn")
        # Every worker warm: imports done, the upload path run once.
        warm = bench_uploads.latency(port, ten_mb_jpeg, requests=2 * workers,
                                     init_data_of=lambda i: upload_init_data(1000 + i))
        log(f"uploads warm-up: {warm['statuses']}")
        result["latency_10mb_jpeg"] = {
            "megapixels": 24.0,
            **bench_uploads.latency(port, ten_mb_jpeg, requests=UPLOAD_LATENCY_REQUESTS,
                                    init_data_of=upload_init_data),
        }
        log(f"upload of a {len(ten_mb_jpeg):,}-byte JPEG: {result['latency_10mb_jpeg']}")
        master = server.process.pid if server.process else 0
        for key, data, name, content_type in (
            ("memory_40mp_jpeg", forty_jpeg, "photo.jpg", "image/jpeg"),
            ("memory_40mp_png", forty_png, "screen.png", "image/png"),
            ("memory_40mp_webp", forty_webp, "photo.webp", "image/webp"),
            ("memory_6mp_webp", six_webp, "photo.webp", "image/webp"),
        ):
            measured = bench_uploads.memory_under_concurrent_uploads(
                port, master, data, name=name, content_type=content_type, concurrency=UPLOAD_CONCURRENCY,
                init_data_of=lambda i, k=key: upload_init_data(2000 + 100 * len(k) + i),
            )
            pixels = 6.0 if key == "memory_6mp_webp" else round(forty[0] * forty[1] / 1e6, 1)
            result[key] = {"megapixels": pixels, **measured}
            log(f"{UPLOAD_CONCURRENCY} uploads of a {pixels} MP {content_type} at once: max worker RSS "
                f"{measured['max_rss_mib']} MiB ({measured['statuses']})")
    return result


# --- Report -----------------------------------------------------------------------------------


def write_report(report: dict) -> Path:
    REPORTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (REPORTS / f"bench-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    markdown = render_markdown(report)
    path = REPORTS / f"bench-{stamp}.md"
    path.write_text(markdown)
    shutil.copyfile(path, REPORTS / "latest.md")
    shutil.copyfile(REPORTS / f"bench-{stamp}.json", REPORTS / "latest.json")
    return path


def render_markdown(report: dict) -> str:
    machine = report["machine"]
    lines = [
        f"# NanoGen benchmark, {report['started_at']}",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB RAM; "
        f"PostgreSQL {machine['postgresql']}; Python {machine['python']}, Django {machine['django']}; "
        f"load average at start {machine['load_average_at_start']}, at the end {report.get('load_average_at_end')} "
        "(other work on the machine shows in the timings). "
        f"Took {report.get('total_seconds')} s.",
        "",
    ]
    if "start" in report:
        from bench.start_http import render as render_start

        lines += render_start(report["start"], report["start"].get("in_process"), machine["cores"])
    if "plans" in report:
        from bench.plans import render as render_plans

        lines += render_plans(report["plans"])
    if "history" in report:
        lines += render_main_sections(report)
    if "worker" in report:
        from bench.worker import render as render_worker

        lines += render_worker(report["worker"])
    if "uploads" in report:
        lines += render_uploads(report["uploads"])
    if "broadcast" in report:
        from bench.broadcast import render as render_broadcast

        lines += render_broadcast(report["broadcast"])
    return "\n".join(lines)


def render_uploads(uploads: dict) -> list[str]:
    latency = uploads["latency_10mb_jpeg"]
    verdict = "met" if latency["p95_ms"] < 1000 else "NOT met"
    lines = [
        "## 5. Uploads (POST /api/uploads)",
        "",
        f"gunicorn as the Procfile runs it: {uploads['workers']} {uploads.get('worker_class', 'sync')} workers"
        + (f", {uploads['threads']} threads each." if uploads.get("worker_class") == "gthread" else "."),
        "",
        f"A {latency['bytes']:,}-byte JPEG ({latency['megapixels']} megapixels), {latency['requests']} uploads one "
        f"after the other: p50 {latency['p50_ms']} ms, p95 {latency['p95_ms']} ms, max {latency['max_ms']} ms "
        f"(statuses {latency['statuses']}). Goal p95 < 1 s: {verdict}.",
        "",
        "| 4 uploads at once of | bytes | statuses | slowest s | worker RSS before (MiB) | worker RSS peak (MiB) "
        "| max MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in (("memory_40mp_jpeg", "a 40 MP JPEG"), ("memory_40mp_png", "a 40 MP PNG"),
                       ("memory_40mp_webp", "a 40 MP WebP (refused from its header)"),
                       ("memory_6mp_webp", "a 6 MP WebP (the largest accepted)")):
        entry = uploads[key]
        lines.append(f"| {label} | {entry['bytes']:,} | {entry['statuses']} | {entry['slowest_s']} | "
                     f"{', '.join(str(v) for v in entry['rss_before_mib'].values())} | "
                     f"{', '.join(str(v) for v in entry['rss_peak_mib'].values())} | {entry['max_rss_mib']} |")
    limit_mib = 200 * 1000**2 / 1024**2
    lines.append("")
    for key, label in (("memory_40mp_jpeg", "JPEG, 40 MP"), ("memory_40mp_png", "PNG, 40 MP"),
                       ("memory_40mp_webp", "WebP, 40 MP (refused)"), ("memory_6mp_webp", "WebP, 6 MP")):
        worst = uploads[key]["max_rss_mib"]
        lines.append(f"- {label}: a web worker under 200 MB: {'met' if worst < limit_mib else 'NOT met'} "
                     f"(largest {worst} MiB = {worst * 1024**2 / 1000**2:.0f} MB).")
    lines.append("")
    return lines


def render_main_sections(report: dict) -> list[str]:
    lines: list[str] = []
    history = report["history"]
    lines += [
        "",
        "## 3. History page latency (GET /api/generations, one user with "
        f"{HISTORY_OWN_GENERATIONS} generations)",
        "",
        "| generations in the table | requests | p50 ms | p95 ms | p99 ms | first page's plan | buffers | SQL ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in ("small", "large"):
        entry = history[key]
        plan = entry["plan"]
        lines.append(f"| {entry['table_rows']:,} | {entry['requests']} | {entry['p50_ms']} | {entry['p95_ms']} "
                     f"| {entry['p99_ms']} | {plan['scan']} | {plan['buffers']} | {plan['execution_ms']} |")
    lines += ["", f"Seeding: {history['seed_seconds']} s for the bulk rows (generate_series).", ""]
    ops = report.get("ops_at_1m") or {}
    if ops:
        lines += [
            "Staff dashboard and /metrics at that size (in-process, first request and warm median):",
            "",
            f"- dashboard, 30 days: {ops['dashboard_30_days_ms']['first']} ms first, "
            f"{ops['dashboard_30_days_ms']['median_warm']} ms warm",
            f"- dashboard, 365 days: {ops['dashboard_365_days_ms']['first']} ms first, "
            f"{ops['dashboard_365_days_ms']['median_warm']} ms warm",
            f"- /metrics: {ops['metrics_scrape_ms']['first_ever']} ms for the first scrape ever (counts all "
            f"history once), {ops['metrics_scrape_ms']['steady_median']} ms for later scrapes",
            "",
        ]
    return lines


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # so that every started server is stopped on the way out


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic for a benchmark
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per load level")
    parser.add_argument("--large", type=int, default=1_000_000, help="generations in the table for the large case")
    parser.add_argument("--worker-generations", type=int, default=600)
    parser.add_argument("--only", choices=["all", "start", "plans", "worker", "uploads", "broadcast"], default="all",
                        help="run every part, or only the start against pgbench and the ceiling (start), the "
                        "query plans at 10k and 1M (plans), the worker (part 4), the uploads (part 5) or the "
                        "broadcast (part 6)")
    parser.add_argument("--gunicorn-matrix", action=argparse.BooleanOptionalAction, default=True,
                        help="measure the start under sync and gthread workers, 2 to 5 of them (about 2 minutes)")
    parser.add_argument("--broadcast-users", type=int, default=100_000,
                        help="recipients of the broadcast (part 6; 100,000 take over an hour at 25 a second; "
                        "0 skips it)")
    args = parser.parse_args()

    started = time.monotonic()
    url = bench_database_url()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    workdir = Path(tempfile.mkdtemp(prefix="nanogen-bench-"))
    (workdir / "prometheus").mkdir()
    log(f"database {urlsplit(url)._replace(netloc=urlsplit(url).hostname or '').geturl()}, work files in {workdir}")
    database_recreate(url)
    migrate(url)
    django_setup(url)
    report: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": machine_info(url)}
    if args.only == "uploads":
        report["uploads"] = uploads(url, workdir)
        finish(report, started, workdir)
        return
    if args.only == "broadcast":
        report["broadcast"] = broadcast(url, args.broadcast_users, workdir)
        finish(report, started, workdir)
        return
    if args.only == "worker":
        report["worker"] = worker(url, args.worker_generations, workdir, redis_url)
        finish(report, started, workdir)
        return

    log(f"seeding {USERS} users and 10,000 generations")
    small_seed = seed(users=USERS, generations=10_000, first_telegram_id=FIRST_TELEGRAM_ID, credits=1_000_000)
    history_user_create()
    vacuum_analyze(url)
    history: dict[str, Any] = {}
    if args.only in ("all", "plans"):
        report["plans"] = {"small": plans_take()}
        log(f"plans at {report['plans']['small']['generations']:,} generations taken")

    if args.only == "all":
        port = free_port()
        with gunicorn(url, port, workdir / "gunicorn-history.log"):
            wait_until(lambda: http_ok(port), seconds=60, what="gunicorn")
            from django.db import connection

            connection.close()
            history["small"] = {"table_rows": generation_count(), **history_latency(port, 300)}
            log(f"history at {history['small']['table_rows']:,} rows: p50 {history['small']['p50_ms']} ms")

    if args.only in ("all", "start"):
        report["start"] = start_benchmark(url, workdir, args.seconds, matrix=args.gunicorn_matrix)
        if not report["start"].get("skipped"):
            start_reset()  # pgbench's generations are pending: the users would be at their active limit
            from bench.start_inprocess import start_in_process

            database_settle(url)
            in_process = report["start"]["in_process"] = start_in_process(200)
            log(f"start in process (no HTTP): p50 {in_process['p50_ms']} ms, "
                f"Python p50 {in_process['python_p50_ms']} ms")
        start_reset()
    if args.only == "start":
        finish(report, started, workdir)
        return

    remaining = args.large - generation_count()
    log(f"seeding {remaining:,} more generations (to {args.large:,})")
    large_seed = seed(users=20_000, generations=remaining, first_telegram_id=FIRST_TELEGRAM_ID + 100_000,
                      rebuild_indexes=True)
    vacuum_analyze(url)
    history["seed_seconds"] = round(small_seed + large_seed, 1)
    if "plans" in report:
        report["plans"]["large"] = plans_take()
        report["plans"]["seed_seconds"] = history["seed_seconds"]
        log(f"plans at {report['plans']['large']['generations']:,} generations taken")
    if args.only == "plans":
        finish(report, started, workdir)
        return
    port = free_port()
    with gunicorn(url, port, workdir / "gunicorn-large.log"):
        wait_until(lambda: http_ok(port), seconds=60, what="gunicorn")
        history["large"] = {"table_rows": generation_count(), **history_latency(port, 300)}
        log(f"history at {history['large']['table_rows']:,} rows: p50 {history['large']['p50_ms']} ms")
    report["history"] = history
    report["ops_at_1m"] = dashboard_and_metrics()
    log(f"dashboard and metrics: {report['ops_at_1m']}")

    report["worker"] = worker(url, args.worker_generations, workdir, redis_url)

    report["uploads"] = uploads(url, workdir)
    if args.broadcast_users:
        report["broadcast"] = broadcast(url, args.broadcast_users, workdir)
    else:
        log("broadcast skipped (--broadcast-users 0)")
    finish(report, started, workdir)


def worker(url: str, generations: int, workdir: Path, redis_url: str) -> dict[str, Any]:
    """Part 4 (bench/worker.py); the queue is emptied first, so that its worker runs only its own tasks."""
    from bench.worker import worker_bench

    queue_clear()
    return worker_bench(env=child_env(url), bot_token=BOT_TOKEN, workdir=workdir, redis_url=redis_url,
                        generations=generations)


def start_benchmark(url: str, workdir: Path, seconds: float, *, matrix: bool) -> dict[str, Any]:
    """Goal 1 (bench/start_http.py): the start under wrk, the plain-view ceiling, pgbench,
    the gunicorn matrix; with the run's own database, users and processes."""
    from bench.start_http import start_section

    def wait_ready(port: int) -> None:
        wait_until(lambda: http_ok(port), seconds=60, what="gunicorn")

    return start_section(
        url=url, workdir=workdir, seconds=seconds, matrix=matrix, users=USERS, sign=init_data,
        first_telegram_id=FIRST_TELEGRAM_ID, gunicorn=gunicorn, wait_ready=wait_ready, free_port=free_port,
        pgbench=lambda concurrency, duration: pgbench(url, concurrency, duration, workdir), reset=start_reset,
    )


PLANS_LIVE_GENERATIONS = 50


def live_generations_reset() -> None:
    """The same live generations at either size: every live one ended, then
    PLANS_LIVE_GENERATIONS fresh ones (half pending, half processing, none due). A sweep
    costs what it finds; with the same live set at 10k and at 1M, a difference in its
    buffers is the table's size, not more work."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE generations_generation SET status = 'cancelled', finished_at = now() "
                       "WHERE status IN ('pending', 'processing')")
        cursor.execute(
            """
            INSERT INTO generations_generation (user_id, model_id, kind, prompt, params, status, credits_charged,
                refunded, payload_hash, result_file, result_content_type, error_code, error_message,
                provider_job_id, attempts, timeout_at, created_at, started_at, finished_at)
            SELECT u.id, m.id, 'image', 'live ' || i, '{}'::jsonb,
                CASE WHEN i %% 2 = 0 THEN 'pending' ELSE 'processing' END, 10, false, md5(i::text), '', '', '', '',
                '', 1, now() + interval '15 minutes', now(), CASE WHEN i %% 2 = 0 THEN NULL ELSE now() END, NULL
            FROM generate_series(1, %s) AS i
            JOIN accounts_user u ON u.telegram_id = %s + i
            CROSS JOIN (SELECT id FROM generations_aimodel WHERE slug = 'nano-banana') m
            """,
            [PLANS_LIVE_GENERATIONS, FIRST_TELEGRAM_ID],
        )
        cursor.execute("ANALYZE generations_generation")


def plans_take() -> dict[str, Any]:
    """Goal 4 (bench/plans.py): every statement of the start, history, detail, quote and the
    sweeper, EXPLAIN (ANALYZE, BUFFERS)'d at this size. Everything they write is rolled back."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from bench import plans
    from generations.models import Generation
    from generations.services.sweeper import generations_sweep

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    client = Client()
    authorization = f"tma {init_data(HISTORY_TELEGRAM_ID)}"
    user = User.objects.get(telegram_id=HISTORY_TELEGRAM_ID)
    # One of the user's older generations: a detail request for something in the middle of history.
    detail_id = Generation.objects.filter(user=user).order_by("created_at").values_list("pk", flat=True)[50]

    def call(method: str, path: str, expected: int, body: dict[str, Any] | None = None) -> None:
        if method == "POST":
            response = client.post(path, json.dumps(body), content_type="application/json",
                                   HTTP_AUTHORIZATION=authorization)
        else:
            response = client.get(path, HTTP_AUTHORIZATION=authorization)
        if response.status_code != expected:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.content[:300]!r}")

    # Once outside the measurement: the user's profile takes the init data's names (the
    # one UPDATE of a first request), so each operation below runs as on any later request.
    call("GET", "/api/generations", 200)
    live_generations_reset()
    start_body = {"model": "nano-banana", "prompt": "a red fox in the snow", "idempotency_key": "plans-start"}
    operations: dict[str, Callable[[], object]] = {
        "start (POST /api/generations)": lambda: call("POST", "/api/generations", 201, start_body),
        "history (GET /api/generations)": lambda: call("GET", "/api/generations", 200),
        "detail (GET /api/generations/{id})": lambda: call("GET", f"/api/generations/{detail_id}", 200),
        "quote (POST /api/generations/quote)": lambda: call(
            "POST", "/api/generations/quote", 200, {"model": "nano-banana", "prompt": "a red fox in the snow"}),
        "sweeper (generations_sweep)": generations_sweep,
    }
    taken = {name: plans.explain(plans.captured_statements(operation)) for name, operation in operations.items()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM generations_generation), "
                       "(SELECT count(*) FROM accounts_creditledgerentry)")
        generations, ledger_rows = cursor.fetchone()
    connection.close()
    return {"generations": generations, "ledger_rows": ledger_rows, "operations": taken}


def broadcast(url: str, users: int, workdir: Path) -> dict[str, Any]:
    """Part 6 (bench/broadcast.py); the queue is emptied first, so that its worker runs only the broadcast."""
    from bench.broadcast import broadcast_bench

    queue_clear()
    result = broadcast_bench(env=child_env(url), bot_token=BOT_TOKEN, users=users, workdir=workdir)
    log(f"broadcast: {result['final']}, rates {result['rates']}, 429s {result['rejected_429']}, "
        f"duplicates {result['duplicates']}")
    return result


def finish(report: dict[str, Any], started: float, workdir: Path) -> None:
    report["total_seconds"] = round(time.monotonic() - started, 1)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = write_report(report)
    log(f"report: {path.relative_to(ROOT)} (and bench/reports/latest.md), {report['total_seconds']} s in all")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
