"""Stored results are served from MEDIA_URL by the web process (SERVE_MEDIA), also
with DEBUG off, so a single-container deployment shows results without nginx."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

pytestmark = pytest.mark.django_db


def test_a_stored_result_is_served_with_long_caching(anonymous_client, settings):
    assert not settings.DEBUG
    name = default_storage.save("generations/test/result-abc.png", ContentFile(b"\x89PNG\r\n\x1a\nfake"))
    response = anonymous_client.get(default_storage.url(name))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize("path", ["/media/../nanogen/settings.py", "/media/%2e%2e/manage.py", "/media/nope.png"])
def test_nothing_outside_media_root_or_missing_is_served(anonymous_client, path):
    # 400 for a path that climbs out of MEDIA_ROOT (Django's SuspiciousFileOperation), 404 when missing.
    assert anonymous_client.get(path).status_code in (400, 404)


def test_an_uploaded_photo_is_cached_only_by_its_users_browser(anonymous_client):
    name = default_storage.save("uploads/2026/12/01/secret-name.jpg", ContentFile(b"\xff\xd8\xff fake"))
    response = anonymous_client.get(default_storage.url(name))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")
    assert "noindex" in response["X-Robots-Tag"]
    assert response["X-Content-Type-Options"] == "nosniff"
