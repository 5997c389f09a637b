"""The media storage on an S3-compatible object store (MEDIA_STORAGE=s3).

django-storages' S3 backend, made to fail the way local disk does: every error of
the object store (unreachable, timed out, refused) is an OSError, so the code that
stores and reads results (the worker, the bot's notifications, uploads) handles
"the storage is down" once, whatever the backend. A missing object is
FileNotFoundError, as on disk.

Reads download the whole object when the file is opened, inside that error
translation; django-storages would otherwise fetch it on the first read().
"""

from collections.abc import Callable
from typing import Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from storages.backends.s3 import S3Storage

T = TypeVar("T")

# A stored name never changes its bytes (names carry a random part), so clients and
# CDNs may keep them for a year, as core.media.media_serve tells them for local files.
CACHE_CONTROL = "public, max-age=31536000, immutable"
# boto3 waits 60 s per connect and per read by default, with up to 5 legacy retries:
# a worker step (Q_TIMEOUT, 120 s) must survive a hanging object store. Signed URLs
# use Signature Version 4, the one every S3-compatible store accepts (boto3 would
# otherwise sign some with the legacy version 2, which newer regions and R2 refuse).
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3},
                       signature_version="s3v4")


class MediaStorageError(OSError):
    """The object store could not do what was asked (a transient failure for callers)."""


def _storage_errors_as_oserror(call: Callable[[], T], *, what: str) -> T:
    try:
        return call()
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code", "")
        # A HEAD has no body, so its 404 carries no code; a missing bucket is no missing file.
        if status == 404 and code in ("NoSuchKey", "404", "NotFound"):
            raise FileNotFoundError(f"{what}: no such object") from exc
        raise MediaStorageError(f"{what}: object store answered {status} {code}") from exc
    except BotoCoreError as exc:
        raise MediaStorageError(f"{what}: {type(exc).__name__}") from exc


class S3MediaStorage(S3Storage):
    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        # Merged into the config django-storages built (addressing style, signature version).
        self.client_config: Config = self.client_config.merge(CLIENT_CONFIG)

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        return {"CacheControl": CACHE_CONTROL, **super().get_object_parameters(name)}

    def _save(self, name: str, content: File[Any]) -> str:
        return _storage_errors_as_oserror(lambda: super(S3MediaStorage, self)._save(name, content),
                                          what=f"saving {name}")

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        def open_and_download() -> File[Any]:
            file: File[Any] = super(S3MediaStorage, self)._open(name, mode)
            if "r" in mode:
                file.file  # noqa: B018 - the property downloads the object
            return file

        return _storage_errors_as_oserror(open_and_download, what=f"reading {name}")

    def delete(self, name: str) -> None:
        _storage_errors_as_oserror(lambda: super(S3MediaStorage, self).delete(name), what=f"deleting {name}")

    def exists(self, name: str) -> bool:
        return _storage_errors_as_oserror(lambda: super(S3MediaStorage, self).exists(name), what=f"looking up {name}")

    def size(self, name: str) -> int:
        return _storage_errors_as_oserror(lambda: super(S3MediaStorage, self).size(name), what=f"sizing {name}")
