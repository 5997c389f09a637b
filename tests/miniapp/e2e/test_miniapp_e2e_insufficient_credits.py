"""Too few credits: the create screen says so before submitting, and a submit opens the
credit packs with what is missing. Nothing is started or charged."""

import pytest

from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_too_few_credits_opens_the_packs(miniapp_factory, init_data, catalog, packs, audit_passes):
    user = UserFactory.create(telegram_id=7201, first_name="Poor", language_code="en")
    credits_give(user, 4)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7201))
    page.locator(".model-card[data-model='nano-banana']").click()
    assert "Not enough credits: you need 6 credits more." in page.locator(".summary").inner_text()
    page.get_by_label("Prompt").fill("a castle in the clouds")
    with page.expect_response(lambda r: r.url.endswith("/api/generations") and r.request.method == "POST") as answer:
        page.locator(".main-button").click()
    assert answer.value.status == 402 and answer.value.json()["code"] == "INSUFFICIENT_CREDITS"

    balance = page.locator(".screen-balance")
    balance.wait_for()
    assert page.locator(".topbar-title").inner_text() == "Balance"
    notice = balance.locator(".notice-warning")
    assert notice.inner_text() == "You need 10 credits for this generation and have 4 credits. Buy a pack to continue."
    assert balance.locator(".balance-amount").inner_text() == "4 credits"
    balance.locator(".pack").first.wait_for()  # the packs load after the screen opens
    assert balance.locator(".pack-title").all_inner_texts() == ["Starter", "Plus"]
    assert balance.locator(".pack-buy").first.is_enabled()

    # Back to the form, prompt intact, to send it once credits are bought.
    page.locator(".topbar-back").click()
    assert page.get_by_label("Prompt").input_value() == "a castle in the clouds"
    assert not Generation.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.credits == 4
