"""Under gunicorn with several workers (PROMETHEUS_MULTIPROC_DIR set, as the Procfile
does), /metrics adds up the HTTP metrics of every worker, including workers that
have exited since, whichever worker answers the scrape."""

import http.client

import pytest

from tests.ops.helpers import METRICS_TOKEN, parse, value
from tests.ops.processes import free_port, gunicorn, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REQUESTS = 10


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def answers(port: int) -> bool:
    try:
        return get(port, "/api/health")[0] == 200
    except OSError:
        return False


def test_metrics_of_all_workers_are_added_up(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999999.db").write_bytes(b"stale file of an earlier run")
    # Each worker exits after a few requests, so many processes serve the requests below.
    server = gunicorn(
        port=port, log=tmp_path / "gunicorn.log", workers=2, extra_args=("--max-requests", "3"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), METRICS_TOKEN=METRICS_TOKEN, LOG_FORMAT="json",
    ).start()
    try:
        wait_for(lambda: answers(port), seconds=30, what="gunicorn to answer")
        assert not (metrics_dir / "counter_99999999.db").exists(), "gunicorn kept a stale metrics file"
        for _ in range(REQUESTS - 1):
            assert get(port, "/api/health")[0] == 200
        status, body = get(port, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200, body
        samples = parse(body.decode())
        count = value(samples, "nanogen_http_request_duration_seconds_count", view="api:health", method="GET")
        assert count == REQUESTS
        assert len(list(metrics_dir.glob("histogram_*.db"))) >= 3, "expected several worker processes"
    except AssertionError:
        print(server.tail())
        raise
    finally:
        server.stop()
