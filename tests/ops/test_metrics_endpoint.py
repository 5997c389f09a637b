"""/metrics: off without METRICS_TOKEN, Bearer token only, Prometheus text format."""

import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from tests.ops.helpers import METRICS_TOKEN, parse

pytestmark = pytest.mark.django_db


def test_without_a_configured_token_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404
    assert b"nanogen_" not in response.content


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x",
     f"tma {METRICS_TOKEN}"],
)
def test_anything_but_the_token_is_refused(client, metrics_token, header):
    kwargs = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"nanogen_" not in response.content


def test_the_token_gets_prometheus_text(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"bearer  {METRICS_TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    assert response["Cache-Control"] == "no-store"
    names = {name for name, _ in parse(response.content.decode())}
    assert {"nanogen_queue_depth", "nanogen_generation_oldest_pending_age_seconds"} <= names


def test_only_get(client, metrics_token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 405


def test_not_redirected_to_https_in_production(client, metrics_token, settings):
    """Prometheus scrapes over the private network; the token guards the endpoint."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200


def test_a_short_token_is_a_deploy_warning(settings):
    from ops.checks import metrics_token_check

    settings.METRICS_TOKEN = "short"
    assert [w.id for w in metrics_token_check(None)] == ["ops.W001"]
    settings.METRICS_TOKEN = METRICS_TOKEN
    assert metrics_token_check(None) == []
