"""Cancelling a generation in progress from its screen returns its credits, once."""

import pytest

from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_cancel_refunds_and_says_so(miniapp_factory, init_data, catalog, audit_passes):
    user = UserFactory.create(telegram_id=7801, first_name="Changed", language_code="en")
    credits_give(user, 30)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7801))
    page.locator(".model-card[data-model='nano-banana']").click()
    page.get_by_label("Prompt").fill("never mind")
    page.locator(".main-button").click()
    cancel = page.get_by_role("button", name="Cancel generation")
    cancel.wait_for()  # no worker runs: it stays in the queue
    page.wait_for_function("() => document.querySelector('.balance-chip').textContent.trim() === '20'")

    cancel.click()
    page.get_by_text("Cancelled. Credits returned.").wait_for()
    assert page.locator(".screen-generation .badge").first.inner_text() == "Cancelled"
    assert page.locator(".notice-error").inner_text() == "10 credits returned to your balance."
    page.wait_for_function("() => document.querySelector('.balance-chip').textContent.trim() === '30'")
    generation = Generation.objects.get(user=user)
    assert generation.status == Generation.Status.CANCELLED and generation.refunded
    user.refresh_from_db()
    assert user.credits == 30
    assert page.get_by_role("button", name="Cancel generation").count() == 0
