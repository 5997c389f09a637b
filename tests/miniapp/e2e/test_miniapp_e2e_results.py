"""A generation with several results shows them as a set: swiped with a finger (scroll
snap), moved with the arrow keys or the dots, with a counter, and a
download of its own for each."""

import pytest

from tests.factories import UserFactory
from tests.generations.api.helpers import generation_completed
from tests.miniapp.e2e.helpers import picture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLOURS = [(200, 40, 40), (40, 160, 60), (40, 60, 200)]


def showing(page, text: str) -> None:
    page.wait_for_function("text => document.querySelector('.slide-counter').textContent === text", arg=text)


def test_several_results_swipe(miniapp_factory, init_data, photo_catalog, audit_passes):
    user = UserFactory.create(telegram_id=7331, first_name="Rex", language_code="en")
    generation = generation_completed(user, photo_catalog["image"], [(picture(colour=c), "image/png") for c in COLOURS],
                                      prompt="three foxes", params={"num_images": 3})
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7331, first_name="Rex"))
    page.locator(".tab[data-screen='history']").click()
    page.locator(f".history-list li[data-id='{generation.pk}'] button").click()

    slides = page.locator(".slides")
    assert slides.locator(".slide").count() == 3
    showing(page, "1 of 3")
    names = [a.get_attribute("download") for a in slides.locator("a[download]").all()]
    assert names == [f"nanogen-{generation.pk}-{n}.png" for n in (1, 2, 3)]
    assert len({a.get_attribute("href") for a in slides.locator("a[download]").all()}) == 3

    # A finger's swipe to the left, 60% of the width: the next one snaps into place.
    box = slides.bounding_box()
    cdp = page.context.new_cdp_session(page)
    y = box["y"] + 100
    points = [box["x"] + box["width"] * (0.85 - 0.1 * step) for step in range(7)]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0], "y": y}]})
    for x in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    showing(page, "2 of 3")
    page.wait_for_function("() => document.querySelector('.slides').scrollLeft % document.querySelector('.slides')"
                           ".clientWidth === 0")

    # The keyboard: arrows on the focused set, then Home.
    slides.focus()
    page.keyboard.press("ArrowRight")
    showing(page, "3 of 3")
    page.keyboard.press("ArrowRight")  # past the last: it stays
    page.wait_for_function("() => { const s = document.querySelector('.slides'); "
                           "return s.scrollLeft === 2 * s.clientWidth; }")
    showing(page, "3 of 3")
    page.keyboard.press("Home")
    showing(page, "1 of 3")
    page.get_by_label("Show result 3").click()
    showing(page, "3 of 3")
    assert page.get_by_label("Show result 3").get_attribute("aria-current") == "true"
    slides.focus()
    page.keyboard.press("ArrowLeft")
    showing(page, "2 of 3")
    assert not app.unlabelled()
