"""The price on the create screen follows the parameters through POST
/api/generations/quote: `num_images` multiplies a picture's, `duration` a video's; an
answer that comes back after a later question is ignored; a refused quote says why."""

from typing import Any

import pytest

from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Every price the summary showed, in order.
RECORD_PRICES = """() => {
  window.pricesShown = [];
  const summary = document.querySelector('.screen-create .summary');
  new MutationObserver(() => {
    const price = summary.querySelector('dd');
    if (price && window.pricesShown.at(-1) !== price.textContent) window.pricesShown.push(price.textContent);
  }).observe(summary, { childList: true, subtree: true });
}"""


def wait_for_held(page, held: list[Any]) -> None:
    """Until the page sent the request the route holds (bounded, as Playwright's waits are)."""
    for _ in range(300):
        if held:
            return
        page.wait_for_timeout(50)
    raise AssertionError("the quote was never asked")


def main_button_says(page, text: str) -> None:
    page.wait_for_function("text => document.querySelector('.main-button').textContent === text", arg=text)


def test_price_follows_num_images_and_duration(miniapp_factory, init_data, photo_catalog):
    user = UserFactory.create(telegram_id=7321, first_name="Quin", language_code="en")
    credits_give(user, 35)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7321, first_name="Quin"))
    page.locator(".model-card[data-model='nano-banana']").click()
    main_button_says(page, "Generate · 10 credits")
    page.wait_for_function("() => !document.querySelector('.screen-create .summary').hasAttribute('aria-busy')")
    page.evaluate(RECORD_PRICES)

    # The answer for 2 pictures is held back until the one for 4 is shown: it is stale.
    held: list[Any] = []

    def hold_two(route):
        if route.request.post_data_json["params"].get("num_images") == 2 and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/generations/quote", hold_two)
    count = page.get_by_label("Number of images")
    count.fill("2")
    page.wait_for_function("() => document.querySelector('.summary').getAttribute('aria-busy') === 'true'")
    wait_for_held(page, held)
    count.fill("4")
    main_button_says(page, "Generate · 40 credits")
    summary = page.locator(".screen-create .summary")
    assert "Not enough credits: you need 5 credits more." in summary.inner_text()
    with page.expect_response(lambda r: r.request is held[0].request):
        held[0].continue_()
    page.unroute("**/api/generations/quote")
    count.fill("3")
    main_button_says(page, "Generate · 30 credits")
    assert page.evaluate("() => window.pricesShown") == ["40 credits", "30 credits"]
    assert "Not enough" not in summary.inner_text()

    # A tap while the price is still being asked for waits for it: a new price is shown, not charged.
    held.clear()
    page.route("**/api/generations/quote", hold_two)
    page.get_by_label("Prompt").fill("two owls")
    count.fill("2")
    page.locator(".main-button").click()
    wait_for_held(page, held)
    held[0].continue_()
    page.get_by_text("The price is now 20 credits. Tap again to generate.").wait_for()
    page.unroute("**/api/generations/quote")
    main_button_says(page, "Generate · 20 credits")
    assert not Generation.objects.exists()

    # A quote the server refuses says why, next to the price.
    count.fill("9")
    page.get_by_text("Could not get the price: Number of images: Enter a number of at most 4.").wait_for()
    assert count.get_attribute("aria-invalid") == "true"

    # A video: ten credits a second.
    page.locator(".topbar-back").click()
    page.locator(".model-card[data-model='demo-video']").click()
    main_button_says(page, "Generate · 50 credits")
    page.get_by_label("Duration, s").select_option("10")
    main_button_says(page, "Generate · 100 credits")
    assert "100 credits" in page.locator(".screen-create .summary").inner_text()
