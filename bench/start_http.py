"""Goal 1 of `make bench`: the start endpoint under wrk, against what the database and
Django themselves allow, all in one run so that the ratios hold on a shared machine.

1. `POST /api/generations` under gunicorn as the Procfile runs it (gunicorn.conf.py), at
   1, 8 and 32 connections: starts/s (201s only), p50/p90/p99 of every answer, the
   answers other than 201 (there should be none).
2. The plain-view ceiling (bench/ceiling.py) under the same gunicorn, with no middleware
   and behind the project's middleware stack, at 8 and 32 connections.
3. The same statements as raw SQL through pgbench (bench/start.pgbench) at 1, 8 and 32.
4. The gunicorn matrix: sync workers (2 to 5) and gthread workers of 4 threads (2 to 4),
   the start at 8 and 32 connections, in two rounds.

Between two loads the bench's pending generations are cancelled and the queue emptied
(no worker runs here), so the next load meets the same per-user limits; every load
takes the next users in turn, so within a minute no user comes near the rate limit.
"""

import os
import runpy
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.wrk import init_data_file_write, wrk_path, wrk_run

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (1, 8, 32)
CEILING_LEVELS = (8, 32)
MATRIX_LEVELS = (8, 32)
# (worker class, workers, threads a worker); 7 configurations x 2 rounds take about 4
# minutes. (gthread with one thread and gthread x5 were measured once, 2026-12-01, and
# were no better than sync: left out to keep the bench short.)
MATRIX = (("sync", 2, 1), ("sync", 3, 1), ("sync", 4, 1), ("sync", 5, 1),
          ("gthread", 2, 4), ("gthread", 3, 4), ("gthread", 4, 4))
WARMUP_SECONDS = 2


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def gunicorn_config() -> dict[str, Any]:
    """What gunicorn.conf.py sets (as the Procfile runs gunicorn), read as gunicorn does."""
    namespace = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {"workers": namespace.get("workers"), "worker_class": namespace.get("worker_class", "sync"),
            "threads": namespace.get("threads", 1)}


class Loads:
    """Runs the wrk loads of one bench run: each takes the next users in turn."""

    def __init__(self, init_data_path: Path, users: int, reset: Callable[[], None]) -> None:
        self.init_data_path, self.users, self.reset = init_data_path, users, reset
        self.next_user = 0
        self.runs = 0

    def run(self, port: int, connections: int, seconds: float, path: str = "/api/generations") -> dict[str, Any]:
        self.reset()
        self.runs += 1
        result = wrk_run(port=port, connections=connections, seconds=seconds, init_data_path=self.init_data_path,
                         key_prefix=f"wrk{os.getpid()}r{self.runs}", first_user=self.next_user, path=path)
        self.next_user = (self.next_user + result["answered"] + connections) % self.users
        return result


def start_section(
    *,
    url: str,
    workdir: Path,
    seconds: float,
    matrix: bool,
    users: int,
    sign: Callable[[int], str],
    first_telegram_id: int,
    gunicorn: Callable[..., Any],
    wait_ready: Callable[[int], None],
    free_port: Callable[[], int],
    pgbench: Callable[[int, float], dict[str, Any] | None],
    reset: Callable[[], None],
) -> dict[str, Any]:
    if wrk_path() is None:
        subprocess.run([str(ROOT / "scripts" / "ensure-wrk")], check=False)
    if wrk_path() is None:
        log("wrk is missing and could not be installed: the start benchmark is skipped")
        return {"skipped": "wrk is not installed (scripts/ensure-wrk could not install it)"}
    init_data_path = workdir / "init-data.txt"
    init_data_file_write(init_data_path, range(first_telegram_id + 1, first_telegram_id + users + 1), sign)
    loads = Loads(init_data_path, users, reset)
    config = gunicorn_config()
    section: dict[str, Any] = {"gunicorn": config, "seconds": seconds, "users": users}

    def served(settings: str, *, middleware: str = "project", workers: int | None = None,
               worker_class: str | None = None, threads: int | None = None) -> tuple[Any, int]:
        port = free_port()
        name = f"gunicorn-{settings}-{middleware}-{worker_class or 'conf'}-{workers or 'conf'}.log"
        server = gunicorn(url, port, workdir / name, settings=settings, workers=workers,
                          worker_class=worker_class, threads=threads, BENCH_MIDDLEWARE=middleware)
        return server, port

    def warm(port: int, path: str) -> None:
        loads.run(port, 8, WARMUP_SECONDS, path)

    # 1. The start, gunicorn as the Procfile runs it.
    server, port = served("nanogen.settings")
    start: list[dict[str, Any]] = []
    with server:
        wait_ready(port)
        warm(port, "/api/generations")
        for connections in LEVELS:
            result = loads.run(port, connections, seconds)
            start.append(result)
            log(f"start, {connections} connections: {result['throughput_per_s']}/s, p50 {result['p50_ms']} ms, "
                f"p99 {result['p99_ms']} ms, non-201 {result['non_201_statuses'] or 0}")
    section["start"] = start

    # 2. The plain-view ceiling, bare and behind the project's middleware.
    from bench.ceiling import PATH

    ceilings: dict[str, list[dict[str, Any]]] = {}
    for middleware in ("none", "project"):
        server, port = served("bench.settings", middleware=middleware)
        with server:
            wait_ready(port)
            warm(port, f"/{PATH}")
            ceilings[middleware] = []
            for connections in CEILING_LEVELS:
                result = loads.run(port, connections, seconds, f"/{PATH}")
                ceilings[middleware].append(result)
                log(f"ceiling ({middleware} middleware), {connections} connections: {result['throughput_per_s']}/s, "
                    f"p50 {result['p50_ms']} ms, non-201 {result['non_201_statuses'] or 0}")
    section["ceiling"] = ceilings

    # 3. pgbench, the same statements as raw SQL.
    reset()
    section["pgbench"] = []
    for connections in LEVELS:
        sql = pgbench(connections, seconds)
        if sql is None:
            log("pgbench not found: the raw SQL comparison is skipped (install postgresql-client)")
            break
        section["pgbench"].append(sql)
        log(f"pgbench, {connections} clients: {sql['throughput_per_s']} tx/s, p50 {sql['p50_ms']} ms")

    # 4. The gunicorn matrix: two rounds, the second in the reverse order, so that other
    # work on the machine during one configuration's turn shows as a difference between
    # its rounds; the better round of each configuration is the one compared.
    if matrix:
        rows: dict[tuple[str, int, int], dict[str, Any]] = {}
        for round_number, order in enumerate((MATRIX, tuple(reversed(MATRIX))), 1):
            for worker_class, workers, threads in order:
                server, port = served("nanogen.settings", workers=workers, worker_class=worker_class,
                                      threads=threads)
                row = rows.setdefault((worker_class, workers, threads), {
                    "worker_class": worker_class, "workers": workers, "threads": threads, "rounds": []})
                with server:
                    wait_ready(port)
                    warm(port, "/api/generations")
                    measured = {str(c): loads.run(port, c, max(4.0, seconds / 2)) for c in MATRIX_LEVELS}
                row["rounds"].append(measured)
                log(f"matrix round {round_number}, {worker_class} x{workers} (threads {threads}): "
                    + ", ".join(f"{c} conn {measured[str(c)]['throughput_per_s']}/s p99 "
                                f"{measured[str(c)]['p99_ms']} ms" for c in MATRIX_LEVELS))
        for row in rows.values():
            for connections in MATRIX_LEVELS:
                row[str(connections)] = max((measured[str(connections)] for measured in row["rounds"]),
                                            key=lambda result: result["throughput_per_s"])
        section["matrix"] = list(rows.values())
    section["ratios"] = ratios(section)
    return section


def _by_connections(results: list[dict[str, Any]], key: str = "connections") -> dict[int, dict[str, Any]]:
    return {int(result[key]): result for result in results}


def ratios(section: dict[str, Any]) -> dict[str, Any]:
    """Same-run ratios at each level: start / pgbench, each ceiling / pgbench, start / ceiling."""
    start = _by_connections(section.get("start", []))
    sql = _by_connections(section.get("pgbench", []), "concurrency")
    ceilings = {name: _by_connections(results) for name, results in section.get("ceiling", {}).items()}
    levels: list[dict[str, Any]] = []
    for connections in LEVELS:
        row: dict[str, Any] = {"connections": connections}
        http = start.get(connections)
        raw = sql.get(connections)
        if http and raw and raw["throughput_per_s"]:
            row["start_over_pgbench"] = round(http["throughput_per_s"] / raw["throughput_per_s"], 3)
        for name, results in ceilings.items():
            ceiling = results.get(connections)
            if ceiling and raw and raw["throughput_per_s"]:
                row[f"ceiling_{name}_over_pgbench"] = round(ceiling["throughput_per_s"] / raw["throughput_per_s"], 3)
            if ceiling and http and ceiling["throughput_per_s"]:
                row[f"start_over_ceiling_{name}"] = round(http["throughput_per_s"] / ceiling["throughput_per_s"], 3)
        levels.append(row)

    def best(key: str) -> float | None:
        values = [row[key] for row in levels if row["connections"] in CEILING_LEVELS and key in row]
        return max(values) if values else None

    return {"levels": levels, "best_start_over_pgbench": best("start_over_pgbench"),
            "best_start_over_ceiling_project": best("start_over_ceiling_project"),
            "best_start_over_ceiling_none": best("start_over_ceiling_none")}


def render(section: dict[str, Any], in_process: dict[str, Any] | None, cores: int | None) -> list[str]:
    lines = ["## 1-2. Start a generation: HTTP (gunicorn, wrk) vs the plain-view ceiling vs raw SQL (pgbench)", ""]
    if section.get("skipped"):
        return [*lines, f"Skipped: {section['skipped']}.", ""]
    config = section["gunicorn"]
    lines += [
        f"gunicorn as the Procfile runs it (gunicorn.conf.py): {config['workers']} {config['worker_class']} workers"
        + (f", {config['threads']} threads each" if config["worker_class"] == "gthread" else "")
        + f"; wrk for {section['seconds']} s per level, {section['users']:,} users in turn, a unique idempotency key "
        "per request (bench/start.lua). pgbench runs the same statements (bench/start.pgbench) with prepared "
        "statements; the ceiling is bench/ceiling.py, those statements as raw SQL from a plain Django view with the "
        "init-data HMAC check, under the same gunicorn. Latencies are of every answer.",
        "",
        "| connections | what | per s | p50 ms | p90 ms | p99 ms | non-201 |",
        "|---|---|---|---|---|---|---|",
    ]
    start = _by_connections(section.get("start", []))
    sql = _by_connections(section.get("pgbench", []), "concurrency")
    ceilings = {name: _by_connections(results) for name, results in section.get("ceiling", {}).items()}
    for connections in LEVELS:
        entries: list[tuple[str, dict[str, Any] | None]] = [("start (POST /api/generations)", start.get(connections))]
        entries += [(f"ceiling, {'no' if name == 'none' else 'project'} middleware", results.get(connections))
                    for name, results in ceilings.items()]
        for what, result in entries:
            if result:
                others = result["non_201"]
                detail = f"{others} {result['non_201_statuses']}" if others else "0"
                if result.get("socket_errors"):
                    detail += f", socket errors {result['socket_errors']}"
                lines.append(f"| {connections} | {what} | {result['throughput_per_s']} | {result['p50_ms']} | "
                             f"{result['p90_ms']} | {result['p99_ms']} | {detail} |")
        raw = sql.get(connections)
        if raw:
            lines.append(f"| {connections} | pgbench (tx) | {raw['throughput_per_s']} | {raw['p50_ms']} | "
                         f"{raw.get('p90_ms', '')} | {raw['p99_ms']} | failed {raw['failed']} |")
    ratio_rows = section.get("ratios", {}).get("levels", [])
    lines += ["", "| connections | start / pgbench | ceiling (none) / pgbench | ceiling (project) / pgbench "
              "| start / ceiling (none) | start / ceiling (project) |", "|---|---|---|---|---|---|"]
    for row in ratio_rows:
        lines.append("| " + " | ".join([str(row["connections"])] + [
            f"{row[key]:.3f}" if key in row else "" for key in
            ("start_over_pgbench", "ceiling_none_over_pgbench", "ceiling_project_over_pgbench",
             "start_over_ceiling_none", "start_over_ceiling_project")]) + " |")
    summary = section.get("ratios", {})
    best = summary.get("best_start_over_pgbench")
    share = summary.get("best_start_over_ceiling_project")
    lines.append("")
    if best is not None:
        lines.append(f"Goal 1 (start >= 0.20 x pgbench at the best of 8/32 connections): "
                     f"{'reached' if best >= 0.20 else 'NOT reached'}, {best:.3f}.")
    if share is not None:
        lines.append(f"Start's share of the plain-view ceiling behind the project's middleware (aim >= 0.75): "
                     f"{share:.3f} (of the bare ceiling: {summary.get('best_start_over_ceiling_none')}).")
    if in_process:
        lines.append(f"One start in process (the WSGI application called as gunicorn's worker calls it, no HTTP, "
                     f"one at a time, {in_process['requests']} "
                     f"starts): p50 {in_process['p50_ms']} ms, p95 {in_process['p95_ms']} ms of Python and SQL round "
                     f"trips (pgbench's single-client p50 is the SQL's share)"
                     + (f"; this process's CPU time per start (the Python cost; goal 3 ms or less): p50 "
                        f"{in_process['python_p50_ms']} ms, mean {in_process.get('python_mean_ms')} ms"
                        + " (measured once the database had settled after the loads)"
                        if "python_p50_ms" in in_process else "") + ".")
    lines.append("")
    if section.get("matrix"):
        lines += [f"gunicorn worker class, count and threads on {cores} cores (the start; two rounds, the second "
                  "in the reverse order; the better round of each, and both rounds' starts/s):", "",
                  "| worker class | workers | threads | 8 conn/s | p99 ms | 32 conn/s | p99 ms | rounds (8 / 32) "
                  "| non-201 |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for row in section["matrix"]:
            eight, thirty_two = row["8"], row["32"]
            rounds = "; ".join(f"{measured['8']['throughput_per_s']} / {measured['32']['throughput_per_s']}"
                               for measured in row.get("rounds", []))
            others = sum(measured[str(c)]["non_201"] for measured in row.get("rounds", []) for c in MATRIX_LEVELS)
            lines.append(f"| {row['worker_class']} | {row['workers']} | {row['threads']} | "
                         f"{eight['throughput_per_s']} | {eight['p99_ms']} | {thirty_two['throughput_per_s']} | "
                         f"{thirty_two['p99_ms']} | {rounds} | {others} |")
        lines.append("")
    return lines
