"""The sweeper deletes uploads no generation used within UPLOAD_KEEP_HOURS (rows and
files) and never one a start is using, even when they meet at the deadline."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from generations.models import Upload
from generations.services import upload_create_from_bytes
from generations.services.inputs import uploads_for_start, uploads_mark_used
from generations.services.sweeper import generations_sweep
from generations.services.uploads import uploads_unused_delete
from tests.generations.images import jpeg_bytes


def aged(upload: Upload, *, hours: float) -> Upload:
    Upload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    upload.refresh_from_db()
    return upload


@pytest.mark.django_db
def test_unused_uploads_past_the_keep_time_are_deleted_with_their_files(owner, settings):
    settings.UPLOAD_KEEP_HOURS = 24
    old = aged(upload_create_from_bytes(user=owner, data=jpeg_bytes()), hours=25)
    young = aged(upload_create_from_bytes(user=owner, data=jpeg_bytes()), hours=23)
    used = aged(upload_create_from_bytes(user=owner, data=jpeg_bytes()), hours=200)
    Upload.objects.filter(pk=used.pk).update(used_at=timezone.now() - timedelta(hours=199))

    report = generations_sweep()

    assert report.uploads_deleted == 1
    assert set(Upload.objects.values_list("pk", flat=True)) == {young.pk, used.pk}
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(young.file.name) and default_storage.exists(used.file.name)
    assert generations_sweep().uploads_deleted == 0


@pytest.mark.django_db
def test_an_expired_upload_cannot_be_used_by_a_start(owner, settings):
    settings.UPLOAD_KEEP_HOURS = 24
    old = aged(upload_create_from_bytes(user=owner, data=jpeg_bytes()), hours=25)
    assert uploads_for_start(user_id=owner.pk, image_ids=[str(old.pk)], now=timezone.now(), lock=False) == []


@pytest.mark.django_db(transaction=True)
def test_a_start_holding_an_upload_at_the_deadline_keeps_it(owner, settings):
    """The start locks its uploads, the sweeper skips locked rows; once the start
    commits, the upload is used and the sweeper leaves it for good."""
    settings.UPLOAD_KEEP_HOURS = 24
    upload = upload_create_from_bytes(user=owner, data=jpeg_bytes())
    locked = threading.Event()
    swept = threading.Event()
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with transaction.atomic():
                [taken] = uploads_for_start(user_id=owner.pk, image_ids=[str(upload.pk)], now=timezone.now(),
                                            lock=True)
                locked.set()
                assert swept.wait(30)
                uploads_mark_used(uploads=[taken], now=timezone.now())
        except BaseException as exc:
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=start)
    thread.start()
    assert locked.wait(30)
    # The sweeper of a day later: the upload looks expired and unused, but is locked.
    later = timezone.now() + timedelta(hours=25)
    assert uploads_unused_delete(now=later, deadline=time.monotonic() + 30) == 0
    swept.set()
    thread.join(30)
    assert not errors, errors
    assert uploads_unused_delete(now=later, deadline=time.monotonic() + 30) == 0
    upload.refresh_from_db()
    assert upload.used_at is not None
    assert default_storage.exists(upload.file.name)
