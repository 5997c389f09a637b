"""A user creates a picture in the Mini App and watches it complete: the page shows the
price and balance first, then the generation's progress, then the image, which is also
in the history. The worker and the demo provider make a real PNG."""

import pytest

from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give
from tests.miniapp.e2e.conftest import IMAGE_PRICE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROMPT = "A lighthouse on a cliff at sunset, oil painting"


def test_create_watch_complete_and_find_in_history(miniapp_factory, init_data, catalog, worker, audit_passes):
    user = UserFactory.create(telegram_id=7001, first_name="Ann", language_code="en")
    credits_give(user, 100)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7001, first_name="Ann"))

    card = page.locator(".model-card[data-model='nano-banana']")
    assert "Nano Banana" in card.inner_text() and "10 credits" in card.inner_text()
    assert "Fast, sharp pictures" in card.inner_text()
    card.click()

    summary = page.locator(".summary")
    assert "Price" in summary.inner_text() and "10 credits" in summary.inner_text()
    assert "100 credits" in summary.inner_text()
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_label("Prompt").fill(PROMPT)
    assert page.locator(".counter").inner_text() == f"{len(PROMPT)} of 2000 characters"
    main = page.locator(".main-button")
    assert main.inner_text() == "Generate · 10 credits"
    main.click()

    # Progress first, then the picture.
    page.locator(".screen-generation .gen-status").wait_for()
    assert page.locator(".screen-generation .badge").first.inner_text() in {"In queue", "Generating", "Done"}
    image = page.locator(".screen-generation img.result-media")
    image.wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector('img.result-media').naturalWidth > 0")
    assert page.locator(".screen-generation .badge").first.inner_text() == "Done"
    assert image.get_attribute("loading") == "lazy"
    assert PROMPT in image.get_attribute("alt")
    download = page.locator(".screen-generation a[download]")
    assert download.get_attribute("href") == image.get_attribute("src")

    generation = Generation.objects.get(user=user)
    assert generation.status == Generation.Status.COMPLETED
    assert generation.params == {"aspect_ratio": "16:9"}
    assert generation.prompt == PROMPT
    user.refresh_from_db()
    assert user.credits == 100 - IMAGE_PRICE
    page.wait_for_function("() => document.querySelector('.balance-chip').textContent.trim() === '90'")

    # Back to the catalog with the back button, then the history tab.
    page.locator(".topbar-back").click()
    page.locator(".tab[data-screen='history']").click()
    row = page.locator(f".history-list li[data-id='{generation.id}']")
    assert "Done" in row.inner_text() and PROMPT in row.inner_text()
    thumb = row.locator("img.thumb")
    assert thumb.get_attribute("loading") == "lazy"
    page.wait_for_function(
        "id => { const i = document.querySelector(`li[data-id='${id}'] img.thumb`); return i.naturalWidth > 0; }",
        arg=generation.id,
    )
    row.locator("button").click()
    page.locator(".screen-generation img.result-media").wait_for()
