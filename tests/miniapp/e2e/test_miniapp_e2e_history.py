"""History: newest first, more pages as the list scrolls (the API's cursor pages, each
generation once), filters by status and kind, and rows that finished meanwhile update."""

import pytest

from generations.models import Generation
from generations.services import generation_cancel_if_active, generation_fail, generation_start
from generations.tasks import generation_run
from tests.factories import UserFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGE_SIZE = 20  # the API's default page


@pytest.fixture
def history(catalog, settings):
    """45 generations through the real services: completed (a real PNG from the demo
    provider), failed and cancelled (refunded), and a few still in progress."""
    settings.GENERATION_RATE_LIMIT_PER_MINUTE = 1000
    settings.GENERATION_MAX_ACTIVE = 1000
    settings.DEMO_PROVIDER_DELAY_SECONDS = 0
    user = UserFactory.create(telegram_id=7401, first_name="Hist", language_code="en")
    credits_give(user, 10_000)
    made = []
    for i in range(45):
        model = catalog["video"] if i % 9 == 4 else catalog["image"]
        generation = generation_start(user=user, model_slug=model.slug, prompt=f"picture number {i}")
        if model.kind == "image" and i % 3 == 0:
            generation_run(generation.pk)
        elif i % 5 == 1:
            generation_fail(generation_id=generation.pk, error_code="PROVIDER_ERROR", error_message="No luck.")
        elif i % 7 == 2:
            generation_cancel_if_active(generation_id=generation.pk)
        made.append(generation.pk)
    return user, made


def shown_ids(page) -> list[int]:
    return [int(i) for i in page.locator(".history-list li").evaluate_all("items => items.map(li => li.dataset.id)")]


def test_scrolling_loads_every_page_once(miniapp_factory, init_data, history, audit_passes):
    user, made = history
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7401))
    page.locator(".tab[data-screen='history']").click()
    page.locator(".history-list li").first.wait_for()
    assert len(shown_ids(page)) == PAGE_SIZE
    # Scroll to the end until the list says there is no more.
    for _ in range(10):
        page.locator(".list-footer").scroll_into_view_if_needed()
        if page.locator(".list-end").count():
            break
        page.wait_for_function("n => document.querySelectorAll('.history-list li').length > n",
                               arg=len(shown_ids(page)))
    assert shown_ids(page) == sorted(made, reverse=True)
    assert page.locator(".list-end").inner_text() == "That's all"

    completed = Generation.objects.filter(user=user, status="completed").count()
    assert completed and page.locator(".history-list img.thumb[loading='lazy']").count() == completed


def test_filters_by_status_and_kind(miniapp_factory, init_data, history):
    user, _made = history
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7401))
    page.locator(".tab[data-screen='history']").click()
    page.locator(".history-list li").first.wait_for()

    page.get_by_label("Status").select_option("failed")
    failed = list(Generation.objects.filter(user=user, status="failed").order_by("-id").values_list("id", flat=True))
    page.wait_for_function("n => document.querySelectorAll('.history-list li').length === n", arg=len(failed))
    assert shown_ids(page) == failed
    assert set(page.locator(".history-list li").evaluate_all("l => l.map(li => li.dataset.status)")) == {"failed"}

    page.get_by_label("Type").select_option("video")
    failed_videos = list(Generation.objects.filter(user=user, status="failed", kind="video").order_by("-id")
                         .values_list("id", flat=True))
    page.wait_for_function("ids => [...document.querySelectorAll('.history-list li')].map(li => +li.dataset.id)"
                           ".join() === ids.join()", arg=failed_videos)

    page.get_by_label("Status").select_option("completed")
    page.locator(".history-list + .list-footer .empty, .list-footer .empty").wait_for()
    assert page.locator(".list-footer .empty").inner_text() == "Nothing matches these filters."


def test_a_row_in_progress_updates_after_visiting_it(miniapp_factory, init_data, catalog, worker, audit_passes):
    worker.pause()
    user = UserFactory.create(telegram_id=7402, first_name="Wait", language_code="en")
    credits_give(user, 100)
    generation = generation_start(user=user, model_slug="nano-banana", prompt="slowly, please")
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7402))
    page.locator(".tab[data-screen='history']").click()
    row = page.locator(f".history-list li[data-id='{generation.pk}']")
    assert row.get_attribute("data-status") == "pending"
    row.locator("button").click()
    worker.resume()
    page.locator(".screen-generation img.result-media").wait_for(timeout=30_000)
    page.locator(".topbar-back").click()
    page.locator(f".history-list li[data-id='{generation.pk}'][data-status='completed'] img.thumb").wait_for()
