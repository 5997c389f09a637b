"""A small closed-loop HTTP load generator: `concurrency` threads, each sending its
next request as soon as the previous answer arrived, for a fixed time.

Python's http.client on loopback costs the client a fraction of a millisecond per
request, far less than the server's work, so on a small machine the numbers are
the server's (the report says how busy the machine was). gunicorn's sync workers
close every connection after one response, so each request opens its own.
"""

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

Request = tuple[str, str, bytes | None, dict[str, str]]


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)  # of the successful requests

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def summary(self) -> dict:
        return {
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 2),
            "requests_ok": self.ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "throughput_per_s": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
        }


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def send(port: int, request: Request, timeout: float = 30) -> tuple[int, bytes]:
    method, path, body, headers = request
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def run_load(
    *,
    port: int,
    concurrency: int,
    seconds: float,
    warmup: float,
    next_request: Callable[[], Request],
    ok_status: int,
) -> LoadResult:
    """Warm up for `warmup` seconds (not counted), then measure for `seconds`."""
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    result = LoadResult(concurrency=concurrency, seconds=seconds)
    lock = threading.Lock()

    def client() -> None:
        while True:
            began = time.monotonic()
            if began >= stop_at:
                return
            try:
                status, _ = send(port, next_request())
            except OSError:
                status = 0
            ended = time.monotonic()
            if began < measure_from or ended > stop_at:
                continue  # only requests wholly inside the window count
            with lock:
                result.statuses[status] += 1
                if status == ok_status:
                    result.ok += 1
                    result.latencies_ms.append((ended - began) * 1000)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    return result
