"""A video model: the job is polled until it is ready, and the result plays in the page
by its content type (the demo provider's is an animated GIF, shown as an image)."""

import pytest

from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_video_job_completes_and_plays(miniapp_factory, init_data, catalog, worker, audit_passes):
    user = UserFactory.create(telegram_id=7951, first_name="Film", language_code="en")
    credits_give(user, 100)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7951))
    page.locator(".model-card[data-model='demo-video']").click()
    page.get_by_label("Duration, s").select_option("10")
    page.get_by_label("Prompt").fill("waves rolling onto a beach")
    page.locator(".main-button").click()
    page.locator(".screen-generation .gen-status").wait_for()
    media = page.locator(".screen-generation .result-media")
    media.wait_for(timeout=30_000)
    generation = Generation.objects.get(user=user)
    assert generation.status == Generation.Status.COMPLETED
    assert generation.params == {"duration": 10}
    assert generation.result_content_type == "image/gif"
    assert media.evaluate("el => el.tagName") == "IMG"
    page.wait_for_function("() => document.querySelector('.result-media').naturalWidth > 0")
    assert page.locator(".screen-generation a[download]").get_attribute("download") == f"nanogen-{generation.pk}.gif"
    user.refresh_from_db()
    assert user.credits == 50
