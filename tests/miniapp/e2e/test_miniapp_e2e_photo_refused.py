"""A photo the service would refuse is named with the reason: one over the upload limit the
page states is refused before it is sent; when the server refuses (its limit changed
under the page, or the file is not an image) its own message is shown. Nothing stays."""

import pytest

from generations.models import Upload
from tests.factories import UserFactory
from tests.miniapp.e2e.helpers import file_payload, noise_jpeg, picture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_too_large_files_are_refused_with_the_message(miniapp_factory, init_data, photo_catalog, settings):
    settings.UPLOAD_MAX_BYTES = 131072  # 0.125 MB, as the page learns it
    UserFactory.create(telegram_id=7311, first_name="Ola", language_code="en")
    app = miniapp_factory()
    page = app.page
    uploads: list[str] = []
    page.on("request", lambda request: uploads.extend([request.url] if request.url.endswith("/api/uploads") else []))
    app.open(init_data(7311, first_name="Ola"))
    page.locator(".model-card[data-model='nano-banana']").click()
    gallery = page.locator(".photos input[type=file][multiple]")
    errors = page.locator(".photo-errors")

    big = noise_jpeg((360, 360))
    assert len(big) > 131072
    gallery.set_input_files([file_payload("big.jpg", big), file_payload("small.png", picture(), "image/png")])
    assert errors.inner_text() == "big.jpg: The file is too large: at most 0.125 MB."
    page.locator(".photo[data-state='ready']").wait_for()
    assert len(uploads) == 1  # the small one only

    # The server's limit is lower than the page believes: the server refuses, in its words.
    settings.UPLOAD_MAX_BYTES = 20000
    mid = noise_jpeg((200, 200))
    assert 20000 < len(mid) < 131072
    gallery.set_input_files([file_payload("mid.jpg", mid)])
    errors.get_by_text("mid.jpg: The file is too large: at most 0.0190735 MB.").wait_for()
    gallery.set_input_files([file_payload("notes.png", b"not a picture at all", "image/png")])
    errors.get_by_text("notes.png: Upload a JPEG, PNG or WebP image.").wait_for()

    assert page.locator(".photo").count() == 1
    assert Upload.objects.count() == 1
    assert not app.unlabelled()
    # The photo that stayed is priced (2 credits on top of 10).
    page.wait_for_function("() => document.querySelector('.main-button').textContent === 'Generate · 12 credits'")
    app.screenshot("create-photo-refused")
