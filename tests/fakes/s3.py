"""A real S3-compatible server for tests: moto in server mode on 127.0.0.1.

`s3_server` (once per test session) runs moto's S3 over HTTP in a thread of the test
process; every process of a test (this one, a qcluster, gunicorn) reaches it at
`endpoint_url` like any object store, through boto3 and signed URLs.

`s3_media` gives a test its own empty bucket and switches this process's media storage
to it (the settings MEDIA_STORAGE=s3 would make); `s3_media.env()` is the environment
that makes a child process use the same bucket through nanogen/settings.py.
"""

import itertools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"  # moto accepts any credentials

_bucket_numbers = itertools.count(1)


class S3Server:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> "S3Server":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                                   aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        return self

    def stop(self) -> None:
        self._server.stop()


class S3Media:
    """One test's bucket on the server, and the settings that point the media storage at it."""

    def __init__(self, server: S3Server, bucket: str) -> None:
        self.server, self.bucket = server, bucket
        self.endpoint_url = server.endpoint_url
        server.client.create_bucket(Bucket=bucket)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment variables that select this bucket in nanogen/settings.py."""
        return {
            "MEDIA_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            **extra,
        }

    def storage_options(self, **extra: Any) -> dict[str, Any]:
        """The OPTIONS nanogen/settings.py builds from env()."""
        return {
            "bucket_name": self.bucket,
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "custom_domain": None,
            "querystring_auth": True,
            "querystring_expire": 3600,
            "location": "",
            "addressing_style": None,
            **extra,
        }

    def make_public(self) -> None:
        """Anyone may read the objects, as a bucket behind public URLs must allow."""
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{self.bucket}/*"}]}
        self.server.client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))

    def keys(self) -> list[str]:
        listing = self.server.client.list_objects_v2(Bucket=self.bucket)
        return [entry["Key"] for entry in listing.get("Contents", [])]

    def head(self, key: str) -> dict[str, Any]:
        return self.server.client.head_object(Bucket=self.bucket, Key=key)

    def get(self, key: str) -> bytes:
        return self.server.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_media(s3_server: S3Server, settings: Any, tmp_path: Path) -> S3Media:
    """A fresh bucket, and this process's default storage on it (signed URLs). MEDIA_ROOT
    is an empty folder of the test's own, so a test can see that nothing lands on disk."""
    media = S3Media(s3_server, bucket=f"nanogen-test-{next(_bucket_numbers)}")
    for name, value in media.env().items():
        setattr(settings, name, value)
    settings.SERVE_MEDIA = False
    settings.MEDIA_ROOT = str(tmp_path / "media-root")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.s3.S3MediaStorage", "OPTIONS": media.storage_options()},
    }
    return media
