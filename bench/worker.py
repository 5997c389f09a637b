"""`make bench` part 4: the worker, on the ORM broker and on Redis (BENCH_REDIS_URL).

A real `manage.py qcluster` with 2 worker processes (Q_WORKERS=2) runs generations of an
AIML API model against a fake AIML API on loopback that answers at once with a small PNG
(the strict fake of the tests, tests/fakes/aimlapi.py, b64 answers), stores every result
in the media storage (local files) and notifies the user through a fake Bot API
(tests/fakes/telegram.py, which here also records when each call arrived). Measured:

1. Throughput: `--worker-generations` generations enqueued at once; completed per second
   (first enqueue to the last `finished_at`) and notified per second (to the last photo
   at the fake Bot API).
2. Latency: generations started one at a time through the real HTTP API (gunicorn, 2
   workers, POST /api/generations) at a few a second: from the 201 to the generation
   being `completed` (its `finished_at`), and from then to its photo arriving at the
   fake Bot API; p50/p95/max.
3. Scheduled-step lateness: ONCE schedules made by `core.scheduling.task_schedule_once`
   due 2-10 s ahead, each running a probe task that records how late it started.

All in one run per broker, so the figures of a run compare with each other. `--only
worker` runs this part alone.
"""

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH_MODEL_SLUG = "bench-flux"
PROVIDER_MODEL = "flux/schnell"  # a model of the fake's documented table (tests/fakes/aimlapi_models.py)
LATENCY_STARTS = 40
LATENCY_EVERY_SECONDS = 0.25
LATENESS_STEPS = 20
FIRST_TELEGRAM_ID = 600_000_000
WORKERS = 2
PROBE = "bench.worker.lateness_probe"
ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def lateness_probe(due: float, record: str) -> float:
    """The task a bench schedule runs: how many seconds after `due` it started, appended
    to the file `record` as one line (the cluster keeps no results of successful tasks)."""
    late = time.time() - due
    with open(record, "a") as file:  # one short write with O_APPEND: lines never interleave
        file.write(f"{late}\n")
    return late


def _percentiles(values: list[float]) -> dict[str, float | int]:
    from bench.load import percentile

    return {"count": len(values), "p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "max": round(max(values), 3) if values else 0.0}


class _Arrivals:
    """When each photo reached the fake Bot API, by caption (the generation's prompt)."""

    def __init__(self) -> None:
        self.by_caption: dict[str, float] = {}


def _fake_telegram(bot_token: str) -> Any:
    from tests.fakes.telegram import FakeTelegram

    class TimedTelegram(FakeTelegram):
        arrivals = _Arrivals()

        def _handle(self, call: Any) -> tuple[int, dict[str, Any]]:
            arrived = time.time()
            if call.method in ("sendPhoto", "sendMediaGroup", "sendDocument"):
                caption = call.get("caption")
                if caption is None and call.method == "sendMediaGroup":
                    media = call.get("media") or []
                    caption = media[0].get("caption") if media and isinstance(media[0], dict) else None
                if isinstance(caption, str):
                    self.arrivals.by_caption.setdefault(caption, arrived)
            return super()._handle(call)

    return TimedTelegram(token=bot_token).start()


def _png() -> bytes:
    from tests.fakes.aimlapi import png_bytes

    return png_bytes((64, 48))


def _setup(users: int) -> tuple[Any, list[Any]]:
    """The AIML model and `users` Telegram users with credits (created once, reused)."""
    from accounts.models import User
    from generations.models import AIModel

    model, _ = AIModel.objects.get_or_create(
        slug=BENCH_MODEL_SLUG, defaults={"name": "Bench FLUX", "kind": "image", "provider": "aimlapi",
                                         "provider_model_id": PROVIDER_MODEL, "price": 1})
    existing = User.objects.filter(telegram_id__gte=FIRST_TELEGRAM_ID,
                                   telegram_id__lt=FIRST_TELEGRAM_ID + users).count()
    if existing < users:
        User.objects.bulk_create(
            [User(telegram_id=FIRST_TELEGRAM_ID + i, first_name="Worker", username=f"wbench{i}", language_code="en",
                  credits=1_000_000, referral_code=f"wb{i}") for i in range(users)],
            ignore_conflicts=True,
        )
    people = list(User.objects.filter(telegram_id__gte=FIRST_TELEGRAM_ID,
                                      telegram_id__lt=FIRST_TELEGRAM_ID + users).order_by("telegram_id"))
    return model, people


def _queue_clear() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE generations_generation SET status = 'cancelled', finished_at = now() "
                       "WHERE status IN ('pending', 'processing')")
        cursor.execute("DELETE FROM django_q_ormq")
        cursor.execute("DELETE FROM django_q_schedule WHERE func = %s", [PROBE])


@contextmanager
def _redis_enqueue(redis_url: str | None) -> Iterator[Any]:
    """This process's broker: Redis at `redis_url` (like a web process with REDIS_URL), or the ORM."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    if redis_url is None:
        yield get_broker()
        return
    saved = (Conf.ORM, Conf.BROKER_CLASS, Conf.REDIS)
    # BROKER_CLASS: the settings set the ORM broker's (core.broker) together with ORM.
    Conf.ORM, Conf.BROKER_CLASS, Conf.REDIS = None, None, redis_url
    try:
        yield get_broker()
    finally:
        Conf.ORM, Conf.BROKER_CLASS, Conf.REDIS = saved


def _throughput(model: Any, people: list[Any], *, count: int, broker: Any, arrivals: _Arrivals,
                tag: str) -> dict[str, Any]:
    from django.db.models import Count, Max
    from django.utils import timezone
    from django_q.tasks import async_task

    from generations.models import Generation

    now = timezone.now()
    generations = Generation.objects.bulk_create(
        Generation(user=people[i % len(people)], model=model, kind="image", prompt=f"bench {tag} throughput {i}",
                   params={}, credits_charged=1, timeout_at=now + timedelta(minutes=15))
        for i in range(count)
    )
    ids = [generation.pk for generation in generations]
    prompts = {generation.prompt for generation in generations}
    began = time.time()
    for generation_id in ids:
        async_task("generations.tasks.generation_run", generation_id, broker=broker)
    enqueued = time.time() - began
    deadline = time.monotonic() + 300
    # One connection for the whole wait (autocommit: every count sees what committed);
    # polling four times a second costs the machine that the workers share little.
    while True:
        active = Generation.objects.filter(pk__in=ids, status__in=Generation.ACTIVE_STATUSES).count()
        notified = sum(1 for prompt in prompts if prompt in arrivals.by_caption)
        if (active == 0 and notified >= count) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    last_finished = Generation.objects.filter(pk__in=ids).aggregate(last=Max("finished_at"))["last"]
    last_photo = max((arrivals.by_caption[p] for p in prompts if p in arrivals.by_caption), default=began)
    statuses = dict(Generation.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id")))
    completed_seconds = last_finished.timestamp() - began if last_finished else float("nan")
    notified_seconds = last_photo - began
    return {
        "generations": count,
        "worker_processes": WORKERS,
        "enqueue_seconds": round(enqueued, 2),
        "completed_seconds": round(completed_seconds, 2),
        "completed_per_s": round(count / completed_seconds, 1),
        "notified": sum(1 for prompt in prompts if prompt in arrivals.by_caption),
        "notified_seconds": round(notified_seconds, 2),
        "notified_per_s": round(count / notified_seconds, 1),
        "statuses": statuses,
    }


def _init_data(telegram_id: int, bot_token: str) -> str:
    from accounts.telegram_init_data import init_data_sign

    user = json.dumps({"id": telegram_id, "first_name": "Worker", "language_code": "en"})
    return init_data_sign({"auth_date": str(int(time.time())), "query_id": "AAHbench", "user": user},
                          bot_token=bot_token)


def _latency(port: int, people: list[Any], *, bot_token: str, arrivals: _Arrivals, tag: str) -> dict[str, Any]:

    from bench.load import send
    from generations.models import Generation

    answered: dict[int, float] = {}
    prompts: dict[int, str] = {}
    statuses: dict[str, int] = {}
    for i in range(LATENCY_STARTS):
        user = people[i % len(people)]
        prompt = f"bench {tag} latency {i}"
        body = json.dumps({"model": BENCH_MODEL_SLUG, "prompt": prompt,
                           "idempotency_key": f"bench-{tag}-{i}-{time.time_ns()}"}).encode()
        headers = {"Authorization": f"tma {_init_data(user.telegram_id, bot_token)}",
                   "Content-Type": "application/json"}
        status, raw = send(port, ("POST", "/api/generations", body, headers))
        at = time.time()
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status == 201:
            generation_id = int(json.loads(raw)["id"])
            answered[generation_id] = at
            prompts[generation_id] = prompt
        time.sleep(LATENCY_EVERY_SECONDS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = Generation.objects.filter(pk__in=answered).exclude(status__in=Generation.ACTIVE_STATUSES).count()
        if done == len(answered) and all(prompt in arrivals.by_caption for prompt in prompts.values()):
            break
        time.sleep(0.25)
    to_completed: list[float] = []
    to_photo: list[float] = []
    for generation_id, finished in Generation.objects.filter(
        pk__in=answered, status=Generation.Status.COMPLETED
    ).values_list("pk", "finished_at"):
        to_completed.append(finished.timestamp() - answered[generation_id])
        photo = arrivals.by_caption.get(prompts[generation_id])
        if photo is not None:
            to_photo.append(photo - finished.timestamp())
    return {"starts": LATENCY_STARTS, "statuses": statuses,
            "created_to_completed_s": _percentiles(to_completed), "completed_to_photo_s": _percentiles(to_photo)}


def _lateness(record: Path) -> dict[str, Any]:
    from django.utils import timezone

    from core.scheduling import task_schedule_once

    record.unlink(missing_ok=True)

    def recorded() -> list[float]:
        return [float(line) for line in record.read_text().splitlines()] if record.exists() else []

    base = timezone.now()
    for i in range(LATENESS_STEPS):
        due = base + timedelta(seconds=2 + 8 * i / (LATENESS_STEPS - 1))
        task_schedule_once(func=PROBE, due=due, name=f"bench lateness {i}", args=(due.timestamp(), str(record)))
    deadline = time.monotonic() + 75  # Django-Q2's own scheduler looks only every 30 s
    while time.monotonic() < deadline:
        if len(recorded()) >= LATENESS_STEPS:
            break
        time.sleep(0.2)
    late = recorded()
    return {"steps": LATENESS_STEPS, "ran": len(late), "late_s": _percentiles(late)}


def worker_bench(*, env: dict[str, str], bot_token: str, workdir: Path, redis_url: str,
                 generations: int) -> dict[str, Any]:
    """Part 4 on both brokers (Redis skipped when BENCH_REDIS_URL does not answer)."""
    from tests.fakes.aimlapi import FakeAimlApi

    model, people = _setup(users=max(LATENCY_STARTS, 200))
    # gunicorn refuses to start without the static files' manifest (core.E008): collected here.
    env = {**env, "STATIC_ROOT": str(workdir / "static")}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    aiml = FakeAimlApi().start()
    telegram = _fake_telegram(bot_token)
    results: dict[str, Any] = {"generations": generations, "worker_processes": WORKERS,
                               "provider": f"AIML API ({PROVIDER_MODEL}) fake on loopback, b64 PNG of "
                                           f"{len(_png())} bytes", "brokers": []}
    try:
        for broker_name in ("orm", "redis"):
            extra = {"Q_WORKERS": str(WORKERS), "MEDIA_ROOT": str(workdir / "media"), "LOG_LEVEL": "INFO",
                     "AIMLAPI_KEY": "bench-key", "AIMLAPI_BASE_URL": aiml.base_url,
                     "TELEGRAM_API_BASE_URL": telegram.base_url,
                     "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus")}
            if broker_name == "redis":
                import redis

                client = redis.Redis.from_url(redis_url)
                try:
                    client.ping()
                except redis.ConnectionError:
                    results["brokers"].append({"broker": "redis", "skipped": f"no Redis at {redis_url}"})
                    log(f"worker on redis: skipped (no Redis at {redis_url})")
                    continue
                client.flushdb()
                extra["REDIS_URL"] = redis_url
            results["brokers"].append(_one_broker(
                broker_name, {**env, **extra}, model, people, aiml=aiml, telegram=telegram, workdir=workdir,
                bot_token=bot_token, generations=generations, redis_url=redis_url,
            ))
    finally:
        aiml.stop()
        telegram.stop()
    return results


def _one_broker(broker_name: str, child_env: dict[str, str], model: Any, people: list[Any], *, aiml: Any,
                telegram: Any, workdir: Path, bot_token: str, generations: int, redis_url: str) -> dict[str, Any]:
    from bench.run import Child, free_port, http_ok, wait_until

    _queue_clear()
    png = base64.b64encode(_png()).decode()
    # Every create the fake answers, scripted up front (it answers 599 to anything unscripted).
    for _ in range(generations + LATENCY_STARTS + 10):
        aiml.script("POST", "/v1/images/generations", _reply(json_body={"data": [{"b64_json": png}]}))
    port = free_port()
    cluster_log = workdir / f"qcluster-worker-{broker_name}.log"
    with ExitStack() as stack:
        stack.enter_context(Child([sys.executable, "manage.py", "qcluster"], child_env, cluster_log))
        stack.enter_context(Child([sys.executable, "-m", "gunicorn", "nanogen.wsgi", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2"], child_env, workdir / f"gunicorn-worker-{broker_name}.log"))
        wait_until(lambda: cluster_log.exists() and "running" in cluster_log.read_text(), seconds=60,
                   what=f"qcluster ({broker_name})")
        wait_until(lambda: http_ok(port), seconds=60, what="gunicorn")
        with _redis_enqueue(redis_url if broker_name == "redis" else None) as broker:
            entry: dict[str, Any] = {"broker": broker_name}
            entry["lateness"] = _lateness(workdir / f"lateness-{broker_name}.txt")
            log(f"worker on {broker_name}: scheduled steps late by {entry['lateness']['late_s']} s")
            entry["latency"] = _latency(port, people, bot_token=bot_token, arrivals=telegram.arrivals,
                                        tag=broker_name)
            log(f"worker on {broker_name}: 201 -> completed {entry['latency']['created_to_completed_s']} s, "
                f"completed -> photo {entry['latency']['completed_to_photo_s']} s")
            entry["throughput"] = _throughput(model, people, count=generations, broker=broker,
                                              arrivals=telegram.arrivals, tag=broker_name)
            log(f"worker on {broker_name}: {entry['throughput']['completed_per_s']} completed/s, "
                f"{entry['throughput']['notified_per_s']} notified/s ({entry['throughput']['statuses']})")
    return entry


def _reply(*, json_body: dict[str, Any]) -> Any:
    from tests.fakes.aimlapi import Reply

    return Reply(json=json_body)


def render(result: dict[str, Any]) -> list[str]:
    lines = [
        "## 4. Worker: throughput, latency, scheduled steps",
        "",
        f"One `manage.py qcluster` with {result['worker_processes']} worker processes; provider: "
        f"{result['provider']}; results stored as local files; every user notified through a fake Bot API. "
        f"Latency: starts through gunicorn (POST /api/generations), {LATENCY_STARTS} one at a time, "
        f"{1 / LATENCY_EVERY_SECONDS:.0f} a second. Lateness: {LATENESS_STEPS} ONCE schedules due 2-10 s ahead.",
        "",
        "| broker | generations | completed/s | notified/s | 201 -> completed p50 / p95 s | completed -> photo "
        "p50 / p95 s | scheduled step late p50 / p95 / max s |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in result["brokers"]:
        if entry.get("skipped"):
            lines.append(f"| {entry['broker']} | skipped: {entry['skipped']} | | | | | |")
            continue
        throughput, latency, late = entry["throughput"], entry["latency"], entry["lateness"]["late_s"]
        created, photo = latency["created_to_completed_s"], latency["completed_to_photo_s"]
        lines.append(
            f"| {entry['broker']} | {throughput['generations']} | {throughput['completed_per_s']} | "
            f"{throughput['notified_per_s']} | {created['p50']} / {created['p95']} | {photo['p50']} / {photo['p95']} "
            f"| {late['p50']} / {late['p95']} / {late['max']} |")
    lines += ["", "Goals: >= 50 generations/s; 201 -> completed <= 1 s p95 and the photo <= 1 s after; scheduled "
              "steps <= 3 s late.", ""]
    return lines
