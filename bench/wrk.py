"""Load for `make bench` from wrk, a C load generator (scripts/ensure-wrk installs it): its
client costs a fraction of what the server spends on a request, so on a 2-core machine
the figures are the server's, which a Python client on the same cores would not allow.

`bench/start.lua` makes each request a real start: a fresh user from a file of signed
init-data strings (`init_data_file_write`) and an idempotency key never used before.
wrk's own summary plus the script's `done()` line (`WRK-RESULT {...}`) give the answers
by status, the latency percentiles of every answer and the duration.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "start.lua"
RESULT_PREFIX = "WRK-RESULT "


def wrk_path() -> str | None:
    return shutil.which(os.environ.get("WRK_PATH", "wrk"))


def init_data_file_write(path: Path, telegram_ids: Iterable[int], sign: Callable[[int], str]) -> int:
    """One signed init-data string per line (the Lua script picks users by line); returns
    the number of lines. Init data is URL-encoded, so it never holds a newline."""
    lines = [sign(telegram_id) for telegram_id in telegram_ids]
    if any("\n" in line or not line for line in lines):
        raise ValueError("init data must be one non-empty line each")
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def result_parse(stdout: str) -> dict[str, Any]:
    """The script's `done()` line, as a summary in milliseconds and starts per second."""
    line = next((line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result line:\n{stdout[-2000:]}")
    raw = json.loads(line[len(RESULT_PREFIX):])
    seconds = raw["duration_us"] / 1e6
    others = {str(status): int(count) for status, count in sorted(raw["others"].items())}
    created = raw["answered"] - sum(others.values())
    errors = {name: count for name, count in raw["errors"].items() if count}
    return {
        "seconds": round(seconds, 2),
        "answered": raw["answered"],
        "created": created,
        "non_201": sum(others.values()),
        "non_201_statuses": others,
        "socket_errors": errors,
        "throughput_per_s": round(created / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
    }


def wrk_run(
    *,
    port: int,
    connections: int,
    seconds: float,
    init_data_path: Path,
    key_prefix: str,
    first_user: int,
    path: str = "/api/generations",
    model: str = "nano-banana",
) -> dict[str, Any]:
    """`connections` keep-alive connections (sync workers close theirs after each answer
    and wrk reconnects) on at most two threads, for `seconds`."""
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed (scripts/ensure-wrk)")
    threads = max(1, min(connections, 2))
    args = [binary, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(SCRIPT), f"http://127.0.0.1:{port}{path}",
            "--", str(init_data_path), key_prefix, str(first_user), str(threads), path, model]
    completed = subprocess.run(args, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return {"connections": connections, **result_parse(completed.stdout)}
