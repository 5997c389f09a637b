"""`make bench` part 6: a broadcast to many seeded users, sent by a real qcluster against
the fake Bot API, which enforces Telegram's global limit (30 messages a second, 429 with
`retry_after` past it) and answers after a network-like latency.

Measured: the rate the worker sends at (it aims at BROADCAST_RATE_PER_SECOND, 25), the
429s it got, the memory of every worker process over the run (it must stay flat however
many recipients: the audience is frozen by INSERT ... SELECT and sent in keyset batches),
and, after a SIGKILL of the whole cluster in the middle and a new cluster taking over,
that nobody got the message twice. Run alone with `--only broadcast`; `--broadcast-users`
sets the audience (100,000 takes over an hour at 25 a second).
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

FIRST_TELEGRAM_ID = 700_000_000
STAFF_TELEGRAM_ID = 699_999_999
SAMPLE_SECONDS = 2.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _users_seed(count: int) -> float:
    """`count` Telegram users the bot can write to; everybody seeded by other sections is
    taken out of the audience (marked unreachable), so the broadcast reaches exactly these."""
    from django.db import connection, transaction

    began = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET is_reachable = false")
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, telegram_id, username, first_name, last_name,
                language_code, is_premium, credits, is_banned, is_reachable, referral_code, is_staff, is_active,
                created_at, updated_at)
            SELECT '!', false, %(first)s + i, 'fan' || i, 'Fan', '', CASE WHEN i %% 3 = 0 THEN 'ru' ELSE 'en' END,
                false, 0, false, true, 'bc' || i, false, true, now(), now()
            FROM generate_series(1, %(count)s) AS i
            """,
            {"first": FIRST_TELEGRAM_ID, "count": count},
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_user")
    return time.monotonic() - began


def _process_group_rss(pgid: int) -> dict[int, int]:
    """Resident memory (KiB) of every process of the group."""
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # Fields after the command (which may contain spaces): state ppid pgrp ...
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[int(entry.name)] = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return rss


def _counts(broadcast_id: int) -> dict[str, int]:
    from django.db import connection

    from telegram_bot.broadcasts.selectors import broadcast_progress

    progress = broadcast_progress(broadcast_id=broadcast_id)
    connection.close()
    return {"sent": progress.sent, "failed": progress.failed, "blocked": progress.blocked, "left": progress.left}


def _qcluster(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as output:
        return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=Path(__file__).resolve().parent.parent,
                                env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(cluster: subprocess.Popen) -> None:
    if cluster.poll() is not None:
        return
    os.killpg(cluster.pid, signal.SIGTERM)
    try:
        cluster.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(timeout=10)


def broadcast_bench(*, env: dict[str, str], bot_token: str, users: int, workdir: Path, rate: float = 25.0,
                    telegram_limit: int = 30, latency: float = 0.05, kill_at: float = 0.5) -> dict[str, Any]:
    """The section (see the module docstring); `env` is the worker's environment (the bench
    database, production-like settings)."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery
    from telegram_bot.broadcasts.services import broadcast_preview, broadcast_start
    from tests.fakes.telegram import FakeTelegram

    log(f"broadcast: seeding {users:,} users")
    seed_seconds = _users_seed(users)
    fake = FakeTelegram(token=bot_token).start()
    fake.global_rate_limit(telegram_limit)
    fake.latency(latency)
    from django.conf import settings

    settings.TELEGRAM_API_BASE_URL = fake.base_url
    clusters: list[subprocess.Popen] = []
    try:
        staff = User.objects.create_superuser(email="broadcast-bench@example.com", password="bench-password-1",
                                              telegram_id=STAFF_TELEGRAM_ID)
        broadcast = Broadcast.objects.create(
            title="Bench broadcast", text="<b>NanoGen</b> has a new model: try it &amp; tell us!",
            button_kind=Broadcast.ButtonKind.URL, button_text="Open", button_url="https://nanogen.example/new",
        )
        broadcast_preview(broadcast=broadcast, staff=staff)
        # The staff member is not one of the measured recipients.
        User.objects.filter(pk=staff.pk).update(is_reachable=False)
        began = time.monotonic()
        recipients = broadcast_start(broadcast_id=broadcast.pk, staff=staff)
        start_seconds = time.monotonic() - began
        connection.close()
        log(f"broadcast: {recipients:,} deliveries made in {start_seconds:.2f} s (INSERT ... SELECT)")

        worker_env = {**env, "TELEGRAM_API_BASE_URL": fake.base_url, "BROADCAST_RATE_PER_SECOND": str(rate),
                      "Q_WORKERS": "2", "Q_TIMEOUT": "60", "Q_RETRY": "70", "LOG_LEVEL": "WARNING"}
        samples: list[dict[str, Any]] = []
        killed_at: dict[str, Any] | None = None
        t0 = time.monotonic()

        def sample(cluster: subprocess.Popen) -> dict[str, Any]:
            entry = {"t": round(time.monotonic() - t0, 1), **_counts(broadcast.pk),
                     "rss_kib": _process_group_rss(cluster.pid), "rejected_429": fake.global_rate_limited}
            samples.append(entry)
            return entry

        clusters.append(_qcluster(worker_env, workdir / "qcluster-broadcast-1.log"))
        while True:
            time.sleep(SAMPLE_SECONDS)
            entry = sample(clusters[-1])
            if killed_at is None and entry["sent"] >= recipients * kill_at:
                os.killpg(clusters[-1].pid, signal.SIGKILL)
                clusters[-1].wait(timeout=30)
                # Counted after the kill: the dead worker may have recorded a send since the sample.
                killed_at = {**entry, **_counts(broadcast.pk), "t": round(time.monotonic() - t0, 1)}
                log(f"broadcast: SIGKILL of the cluster at {entry['sent']:,} sent; a new cluster starts")
                clusters.append(_qcluster(worker_env, workdir / "qcluster-broadcast-2.log"))
                continue
            if len(samples) % 15 == 0:
                log(f"broadcast: {entry['sent']:,} sent, {entry['left']:,} left, "
                    f"worker RSS {sorted(entry['rss_kib'].values())} KiB")
            status = Broadcast.objects.values_list("status", flat=True).get(pk=broadcast.pk)
            connection.close()
            if status == Broadcast.Status.COMPLETED:
                break
            if time.monotonic() - t0 > recipients / rate * 3 + 600:
                raise RuntimeError(f"the broadcast did not finish: {entry}")
        total_seconds = time.monotonic() - t0
        for cluster in clusters:
            _stop(cluster)

        delivered = Counter(int(call["chat_id"]) for call in fake.delivered("sendMessage"))
        duplicates = sum(1 for n in delivered.values() if n > 1)
        final = _counts(broadcast.pk)
        interrupted = BroadcastDelivery.objects.filter(broadcast=broadcast, error__startswith="interrupted").count()
        finished_at = Broadcast.objects.values_list("finished_at", flat=True).get(pk=broadcast.pk)
        connection.close()
        return {
            "recipients": recipients,
            "seed_seconds": round(seed_seconds, 1),
            "start_seconds": round(start_seconds, 2),
            "rate_setting": rate,
            "telegram_limit": telegram_limit,
            "latency_s": latency,
            "total_seconds": round(total_seconds, 1),
            "killed_at": killed_at,
            "rates": _rates(samples, killed_at),
            "memory": _memory(samples, killed_at),
            "final": final,
            "interrupted": interrupted,
            "delivered_chats": len(delivered),
            "duplicates": duplicates,
            "rejected_429": fake.global_rate_limited,
            "finished_at": finished_at.isoformat() if finished_at else None,
            "samples": samples,
            "now": timezone.now().isoformat(),
        }
    finally:
        for cluster in clusters:
            _stop(cluster)
        fake.stop()


def _rates(samples: list[dict[str, Any]], killed_at: dict[str, Any] | None) -> dict[str, Any]:
    """Messages a second while a cluster was sending: from its first to its last progress,
    before the kill and after the new cluster took over (the gap in between is the
    take-over: the dead worker's lease running out)."""

    def rate(part: list[dict[str, Any]]) -> float | None:
        moving = [s for i, s in enumerate(part) if i == 0 or s["sent"] != part[i - 1]["sent"]]
        if len(moving) < 2:
            return None
        first, last = moving[0], moving[-1]
        return round((last["sent"] - first["sent"]) / max(last["t"] - first["t"], 0.001), 2)

    if killed_at is None:
        return {"overall": rate(samples)}
    before = [s for s in samples if s["t"] <= killed_at["t"]]
    after = [s for s in samples if s["t"] > killed_at["t"]]
    resumed = next((s for s in after if s["sent"] > killed_at["sent"]), None)
    return {"before_kill": rate(before), "after_takeover": rate([s for s in after if s["sent"] > killed_at["sent"]]),
            "takeover_seconds": round(resumed["t"] - killed_at["t"], 1) if resumed else None}


def _memory(samples: list[dict[str, Any]], killed_at: dict[str, Any] | None) -> dict[str, Any]:
    """Every process's RSS (MiB, largest first) of each cluster at a tenth, half and nine
    tenths of its share of the sending, and how much the cluster's total grew in between."""
    figures: dict[str, Any] = {}
    for name, part in (("first_cluster", [s for s in samples if killed_at is None or s["t"] <= killed_at["t"]]),
                       ("second_cluster", [s for s in samples if killed_at is not None and s["t"] > killed_at["t"]
                                           and s["sent"] > killed_at["sent"]])):
        part = [s for s in part if s["rss_kib"]]
        if not part:
            continue
        picks = {f"{int(q * 100)}%": part[min(len(part) - 1, int(len(part) * q))] for q in (0.1, 0.5, 0.9)}
        figures[name] = {
            "rss_mib": {key: sorted((round(kib / 1024, 1) for kib in s["rss_kib"].values()), reverse=True)
                        for key, s in picks.items()},
            "total_growth_mib_10_to_90": round(
                (sum(picks["90%"]["rss_kib"].values()) - sum(picks["10%"]["rss_kib"].values())) / 1024, 1),
            "processes": len(part[-1]["rss_kib"]),
        }
    return figures


def render(result: dict[str, Any]) -> list[str]:
    """The section of the Markdown report."""
    rates = result["rates"]
    lines = [
        f"## 6. Broadcast to {result['recipients']:,} users (fake Bot API: {result['telegram_limit']}/s limit, "
        f"{int(result['latency_s'] * 1000)} ms latency)",
        "",
        f"Audience frozen in {result['start_seconds']} s (one INSERT ... SELECT); worker rate setting "
        f"{result['rate_setting']}/s; one qcluster (2 worker processes), SIGKILLed at "
        f"{result['killed_at']['sent'] if result['killed_at'] else '-'} sent, then a new one.",
        "",
        "| | value |",
        "|---|---|",
        f"| messages/s before the kill | {rates.get('before_kill', rates.get('overall'))} |",
        f"| messages/s after the take-over | {rates.get('after_takeover', '-')} |",
        f"| take-over after the kill (lease runs out, task redelivered) | {rates.get('takeover_seconds', '-')} s |",
        f"| 429 answers from the fake Telegram | {result['rejected_429']} |",
        f"| sent / failed / blocked / left | {result['final']['sent']} / {result['final']['failed']} / "
        f"{result['final']['blocked']} / {result['final']['left']} |",
        f"| interrupted by the kill (claimed, never resent) | {result['interrupted']} |",
        f"| chats that got it twice | {result['duplicates']} |",
        f"| total time | {result['total_seconds']} s |",
        "",
        "RSS of every process of the cluster (MiB, largest first) at 10% / 50% / 90% of its share of the sending:",
        "",
    ]
    for name, figures in result["memory"].items():
        rss = figures["rss_mib"]
        lines.append(f"- {name.replace('_', ' ')} ({figures['processes']} processes): {rss.get('10%')} / "
                     f"{rss.get('50%')} / {rss.get('90%')}; total growth from 10% to 90%: "
                     f"{figures['total_growth_mib_10_to_90']} MiB")
    per_second = rates.get("before_kill") or rates.get("overall") or result["rate_setting"]
    lines += ["", f"At this rate 100,000 recipients take about {100_000 / per_second / 60:.0f} minutes.", ""]
    return lines
