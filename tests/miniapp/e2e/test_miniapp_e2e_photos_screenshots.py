"""Screenshots of the create screen with photos and of a generation with several results,
light and dark, on a 360 px phone, into artifacts/screenshots/ for a person to look at;
nothing overflows the width and every control has a name."""

import pytest

from generations.models import AIModel
from generations.providers.base import GenerationRequest
from generations.providers.demo import render_image
from tests.factories import UserFactory
from tests.generations.api.helpers import generation_completed
from tests.helpers import credits_give
from tests.miniapp.e2e.helpers import file_payload, scene

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_photos_and_results(miniapp_factory, init_data, photo_catalog, scheme):
    user = UserFactory.create(telegram_id=7351, first_name="Tea", language_code="en")
    credits_give(user, 120)
    prompt = "A fox in a snowy forest, watercolour"
    request = GenerationRequest(kind=AIModel.Kind.IMAGE, model="demo", prompt=prompt, title="Nano Banana",
                                params={"aspect_ratio": "1:1"})
    generation = generation_completed(
        user, photo_catalog["image"], [(render_image(request, variant=n), "image/png") for n in range(3)],
        prompt=prompt, params={"aspect_ratio": "1:1", "num_images": 3}, credits_charged=30,
    )
    app = miniapp_factory(color_scheme=scheme)
    page = app.page
    app.open(init_data(7351, first_name="Tea"))

    page.locator(".model-card[data-model='nano-banana']").click()
    page.locator(".photos input[type=file][multiple]").set_input_files([
        file_payload("beach.png", scene((400, 300), (120, 180, 240), (240, 200, 120)), "image/png"),
        file_payload("hills.png", scene((300, 400), (250, 170, 120), (60, 120, 70)), "image/png"),
    ])
    page.locator(".photo[data-state='ready']").nth(1).wait_for()
    page.get_by_label("Prompt").fill("Put us on a beach at sunset")
    page.wait_for_function("() => document.querySelector('.main-button').textContent === 'Generate · 14 credits'")
    assert not app.unlabelled()
    assert no_horizontal_overflow(page)
    app.screenshot(f"create-photos-{scheme}")

    page.locator(".topbar-back").click()
    page.locator(".tab[data-screen='history']").click()
    page.locator(f".history-list li[data-id='{generation.pk}'] button").click()
    page.wait_for_function("() => [...document.querySelectorAll('.slide img')].every((i) => i.naturalWidth > 0)")
    page.get_by_label("Show result 2").click()
    page.wait_for_function("() => document.querySelector('.slide-counter').textContent === '2 of 3'")
    page.wait_for_function("() => document.querySelector('.slides').scrollLeft % document.querySelector('.slides')"
                           ".clientWidth === 0")
    assert not app.unlabelled()
    assert no_horizontal_overflow(page)
    app.screenshot(f"results-{scheme}")
