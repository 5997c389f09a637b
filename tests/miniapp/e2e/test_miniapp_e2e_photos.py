"""Editing one's own photos in the Mini App: photos picked from the gallery upload with
progress, are moved and removed with buttons, the price counts them, and the demo
provider draws the prompt over the first of them, in the order the user left them."""

import pytest

from generations.models import Generation, Upload
from tests.factories import UserFactory
from tests.helpers import credits_give
from tests.miniapp.e2e.helpers import file_payload, picture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RED, GREEN, BLUE = (200, 40, 40), (40, 160, 60), (40, 60, 200)


def test_photos_upload_move_remove_and_are_edited(miniapp_factory, init_data, photo_catalog, worker, audit_passes):
    user = UserFactory.create(telegram_id=7301, first_name="Pia", language_code="en")
    credits_give(user, 100)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7301, first_name="Pia"))
    page.locator(".model-card[data-model='nano-banana']").click()

    photos = page.locator(".photos")
    assert "0 of 3" in photos.inner_text()
    gallery = photos.locator("input[type=file][multiple]")
    assert gallery.get_attribute("accept") == "image/jpeg,image/png,image/webp"
    assert photos.locator("input[type=file][capture]").count() == 1
    gallery.set_input_files([
        file_payload("red.png", picture((300, 200), RED), "image/png"),
        file_payload("green.jpg", picture((200, 300), GREEN, fmt="JPEG")),
        file_payload("blue.png", picture((240, 240), BLUE), "image/png"),
    ])
    page.locator(".photo[data-state='ready']").nth(2).wait_for()
    assert "3 of 3" in photos.inner_text()
    assert photos.locator(".photo-pick").is_disabled()
    # Three photos at 2 credits each on top of the picture's 10.
    page.wait_for_function("() => document.querySelector('.main-button').textContent === 'Generate · 16 credits'")

    # Blue up one place (focus stays with it), then red out: blue first, green second.
    page.get_by_label("Move photo 3 up").click()
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Move photo 2 up"
    page.get_by_label("Remove photo 1").click()
    assert page.locator(".photo").count() == 2
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Remove photo 1"
    page.wait_for_function("() => document.querySelector('.main-button').textContent === 'Generate · 14 credits'")

    page.get_by_label("Prompt").fill("Make it a watercolour")
    page.locator(".main-button").click()
    page.locator(".screen-generation img.result-media").wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector('img.result-media').naturalWidth > 0")
    # The edit keeps the first photo's shape: the blue square.
    assert page.evaluate("() => { const i = document.querySelector('img.result-media'); "
                         "return [i.naturalWidth, i.naturalHeight]; }") == [240, 240]
    assert page.locator(".screen-generation .gen-inputs img").count() == 2

    generation = Generation.objects.get(user=user)
    sizes = [(u.width, u.height) for u in (Upload.objects.get(pk=i["upload"]) for i in generation.images)]
    assert sizes == [(240, 240), (200, 300)]
    assert generation.credits_charged == 14 and generation.params == {"aspect_ratio": "1:1", "num_images": 1}
    user.refresh_from_db()
    assert user.credits == 86
