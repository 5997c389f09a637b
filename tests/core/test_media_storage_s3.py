"""The media storage on an S3-compatible object store (moto's real HTTP server): files
go to the bucket and nowhere on disk, URLs point at the store (signed, or public through
a custom domain), and every failure of the store is an OSError like a failing disk."""

import os

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.media import media_origin
from core.s3 import CACHE_CONTROL, MediaStorageError
from tests.fakes.aimlapi import png_bytes

pytestmark = pytest.mark.django_db


def test_a_file_goes_to_the_bucket_and_nowhere_on_disk(s3_media, settings):
    data = png_bytes((8, 8))

    name = default_storage.save("generations/2026/01/02/7-abc.png", ContentFile(data))

    assert name == "generations/2026/01/02/7-abc.png"
    assert s3_media.keys() == [name]
    assert s3_media.get(name) == data
    head = s3_media.head(name)
    assert (head["ContentType"], head["CacheControl"]) == ("image/png", CACHE_CONTROL)
    assert default_storage.size(name) == len(data)
    with default_storage.open(name, "rb") as stored:
        assert stored.read() == data
    assert not any(files for _, _, files in os.walk(settings.MEDIA_ROOT) if files)

    default_storage.delete(name)
    assert s3_media.keys() == []


def test_a_signed_url_points_at_the_store_and_serves_the_bytes(s3_media):
    data = png_bytes((9, 9))
    name = default_storage.save("generations/t/signed.png", ContentFile(data))

    url = default_storage.url(name)

    assert url.startswith(f"{s3_media.endpoint_url}/{s3_media.bucket}/{name}?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.headers["Content-Type"], response.content) == (200, "image/png", data)
    assert media_origin() == s3_media.endpoint_url


def test_public_urls_without_a_signature(s3_media, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage", "OPTIONS": s3_media.storage_options(querystring_auth=False)}}
    name = default_storage.save("generations/t/public.png", ContentFile(png_bytes()))

    url = default_storage.url(name)

    assert url == f"{s3_media.endpoint_url}/{s3_media.bucket}/{name}"
    # Like S3, the store refuses anonymous reads until the bucket's policy allows them.
    assert requests.get(url, timeout=10).status_code == 403
    s3_media.make_public()
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.content) == (200, png_bytes())


def test_a_custom_domain_makes_public_urls_on_that_host(s3_media, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage",
        "OPTIONS": s3_media.storage_options(custom_domain="media.nanogen.example", location="results")}}

    name = default_storage.save("generations/t/cdn.png", ContentFile(png_bytes()))

    assert s3_media.keys() == [f"results/{name}"]
    assert default_storage.url(name) == f"https://media.nanogen.example/results/{name}"
    assert media_origin() == "https://media.nanogen.example"


def test_local_files_have_urls_on_our_own_origin(settings):
    assert settings.MEDIA_STORAGE == "local"
    assert default_storage.url("generations/x.png") == "/media/generations/x.png"
    assert media_origin() is None


def test_a_missing_object_is_file_not_found_and_deleting_it_is_no_error(s3_media):
    with pytest.raises(FileNotFoundError):
        default_storage.open("generations/none.png")
    with pytest.raises(FileNotFoundError):
        default_storage.size("generations/none.png")
    assert default_storage.exists("generations/none.png") is False
    default_storage.delete("generations/none.png")


def test_an_unreachable_store_is_an_oserror(s3_media, settings):
    # Port 9 (discard) has no listener here: every connection is refused at once.
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage", "OPTIONS": s3_media.storage_options(endpoint_url="http://127.0.0.1:9")}}

    with pytest.raises(MediaStorageError) as info:
        default_storage.save("generations/t/x.png", ContentFile(png_bytes()))
    assert isinstance(info.value, OSError)
    assert "EndpointConnectionError" in str(info.value)
    for call in (lambda: default_storage.open("generations/t/x.png"), lambda: default_storage.size("x.png"),
                 lambda: default_storage.delete("x.png"), lambda: default_storage.exists("x.png")):
        with pytest.raises(MediaStorageError):
            call()


def test_a_store_that_refuses_is_an_oserror(s3_media, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage", "OPTIONS": s3_media.storage_options(bucket_name="no-such-bucket")}}

    with pytest.raises(MediaStorageError) as info:
        default_storage.save("generations/t/x.png", ContentFile(png_bytes()))
    assert "NoSuchBucket" in str(info.value)
