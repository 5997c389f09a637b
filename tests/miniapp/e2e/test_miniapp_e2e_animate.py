""""Animate" on a picture NanoGen made: the create screen of a video model that takes an
image opens with that result as its photo (made an upload by the server), the prompt
is optional, and the demo provider animates it. Without a photo, Generate waits for one."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generations.models import Generation, Upload
from tests.factories import UserFactory
from tests.generations.api.helpers import generation_completed
from tests.helpers import credits_give
from tests.miniapp.e2e.helpers import picture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RED, BLUE = (200, 40, 40), (40, 60, 200)


def test_animate_a_result(miniapp_factory, init_data, photo_catalog, worker, audit_passes):
    user = UserFactory.create(telegram_id=7341, first_name="Sol", language_code="en")
    pictures = generation_completed(user, photo_catalog["image"], [(picture((320, 240), RED), "image/png"),
                                                                  (picture((320, 240), BLUE), "image/png")])
    credits_give(user, 60)
    video = photo_catalog["video"]
    video.images_min = 1  # an image-to-video model only: it needs its picture
    video.save()
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7341, first_name="Sol"))

    # Without a photo there is nothing to animate: Generate waits for one, and says so.
    page.locator(".model-card[data-model='demo-video']").click()
    page.get_by_text("Add at least 1 photo to generate.").wait_for()
    assert page.locator(".main-button").is_disabled()
    assert page.locator(".main-button").inner_text() == "Generate · 50 credits"
    page.locator(".topbar-back").click()

    page.locator(".tab[data-screen='history']").click()
    page.locator(f".history-list li[data-id='{pictures.pk}'] button").click()

    page.get_by_label("Show result 2").click()
    page.wait_for_function("() => document.querySelector('.slide-counter').textContent === '2 of 2'")
    page.locator(".slide").nth(1).get_by_role("button", name="Animate").click()

    create = page.locator(".screen-create")
    assert "Demo Video" in create.locator(".model-name").inner_text()
    assert create.locator(".photo[data-state='ready']").count() == 1
    assert create.locator(".photo img").get_attribute("src") == pictures_url(page, 1)
    assert create.get_by_text("(optional)").is_visible()
    page.wait_for_function("() => document.querySelector('.main-button').textContent === 'Generate · 50 credits'")
    page.locator(".main-button").click()  # no prompt: the picture is enough

    result = page.locator(".screen-generation:not([hidden])")  # the pictures' screen is under it
    result.locator(".result-media").wait_for(timeout=30_000)
    clip = Generation.objects.exclude(pk=pictures.pk).get(user=user)
    assert clip.status == Generation.Status.COMPLETED and clip.prompt == "" and clip.credits_charged == 50
    upload = Upload.objects.get(pk=clip.images[0]["upload"])
    with default_storage.open(upload.file.name) as file:
        still = Image.open(io.BytesIO(file.read())).convert("RGB")
    assert still.size == (320, 240) and still.getpixel((160, 120)) == BLUE  # the second result
    assert result.locator(".gen-prompt").inner_text() == "No prompt"

    # Back leads to the pictures again.
    page.locator(".topbar-back").click()
    page.locator(".screen-generation .slides").wait_for()
    assert page.locator(".screen-generation").count() == 1


def pictures_url(page, index: int) -> str:
    return page.locator(".slide img.result-media").nth(index).get_attribute("src")
