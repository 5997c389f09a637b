"""HTTP request latency by view: every request is counted under its URL pattern's
name (never its raw path), with its method and status."""

import pytest

from tests.ops.helpers import scrape, value

pytestmark = pytest.mark.django_db

HISTOGRAM = "nanogen_http_request_duration_seconds"


def test_requests_are_counted_by_view_method_and_status(client, owner_client, metrics_token):
    before = scrape()
    client.get("/api/health")
    client.get("/api/health")
    owner_client.get("/api/generations/999999")
    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(f"{HISTOGRAM}_count", view="api:health", method="GET") == 2
    assert grew(f"{HISTOGRAM}_bucket", view="api:health", method="GET", le="+Inf") == 2
    assert grew("nanogen_http_responses_total", view="api:health", method="GET", status="200") == 2
    assert grew("nanogen_http_responses_total", view="api:generation-detail", method="GET", status="404") == 1
    assert value(after, f"{HISTOGRAM}_sum", view="api:health", method="GET") > 0


def test_unknown_paths_and_methods_do_not_create_series(client, metrics_token):
    before = scrape()
    client.get("/no/such/page/12345")
    client.get("/another/unknown/path")
    client.generic("BREW", "/api/health")
    after = scrape()
    names = {labels for name, labels in after if name == "nanogen_http_responses_total"}
    assert not any(("view", "/no/such/page/12345") in labels for labels in names)
    assert value(after, "nanogen_http_responses_total", view="<unmatched>", method="GET", status="404") - value(
        before, "nanogen_http_responses_total", view="<unmatched>", method="GET", status="404"
    ) == 2
    assert value(after, f"{HISTOGRAM}_count", view="api:health", method="OTHER") >= 1
