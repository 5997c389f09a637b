"""The limits say when to try again, and the page waits that long before it lets the
user send again; other refusals show the server's own message."""

from urllib.parse import urlsplit

import pytest

from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def submit(page, prompt: str):
    page.locator("textarea.prompt").fill(prompt)
    with page.expect_response(lambda r: r.url.endswith("/api/generations") and r.request.method == "POST") as answer:
        page.locator(".main-button").click()
    return answer.value


def test_rate_limit_counts_down_retry_after(miniapp_factory, init_data, catalog, settings, audit_passes):
    settings.GENERATION_RATE_LIMIT_PER_MINUTE = 1
    user = UserFactory.create(telegram_id=7301, first_name="Fast", language_code="en")
    credits_give(user, 100)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7301))
    page.locator(".model-card[data-model='nano-banana']").click()
    assert submit(page, "first").status == 201
    page.locator(".topbar-back").click()
    page.locator(".model-card[data-model='nano-banana']").click()
    answer = submit(page, "second")
    assert answer.status == 429 and answer.json()["code"] == "RATE_LIMIT_EXCEEDED"
    wait = int(answer.headers["retry-after"])
    assert 0 < wait <= 60

    message = page.locator(".message-error")
    assert message.inner_text().startswith("Too many generations in a minute. You can start the next one in ")
    main = page.locator(".main-button")
    assert main.is_disabled()
    assert main.inner_text().startswith("Try again in ") and "second" in main.inner_text()
    assert Generation.objects.filter(user=user).count() == 1


def test_max_active_says_so_and_links_the_history(miniapp_factory, init_data, catalog, settings, audit_passes):
    settings.GENERATION_MAX_ACTIVE = 1
    user = UserFactory.create(telegram_id=7302, first_name="Busy", language_code="ru")
    credits_give(user, 100)
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7302, language_code="ru"))
    page.locator(".model-card[data-model='nano-banana']").click()
    assert submit(page, "первая").status == 201
    page.locator(".topbar-back").click()
    page.locator(".model-card[data-model='nano-banana']").click()
    answer = submit(page, "вторая")
    assert answer.json()["code"] == "MAX_ACTIVE_GENERATIONS"
    assert page.locator(".message-error").inner_text().startswith("У вас уже максимум генераций в работе.")  # noqa: RUF001
    page.get_by_role("button", name="Открыть историю").click()
    page.locator(".screen-history li[data-status='pending']").wait_for()


def test_other_refusals_show_the_servers_message(miniapp_factory, init_data, catalog):
    UserFactory.create(telegram_id=7303, first_name="Val", language_code="en")
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7303))
    page.locator(".model-card[data-model='nano-banana']").click()
    # The model is taken off sale while the user writes.
    catalog["image"].is_active = False
    catalog["image"].save(update_fields=["is_active"])
    answer = submit(page, "too late")
    body = answer.json()
    assert body["code"] == "MODEL_UNAVAILABLE"
    assert page.locator(".message-error").inner_text() == body["message"]


def test_prompt_limit_is_the_servers_and_is_checked_before_sending(miniapp_factory, init_data, catalog, settings):
    settings.GENERATION_PROMPT_MAX_LENGTH = 20
    UserFactory.create(telegram_id=7304, first_name="Long", language_code="en")
    app = miniapp_factory()
    page = app.page
    starts = []
    # Starts only: the live price (POST /api/generations/quote) may go out while typing.
    page.on("request", lambda r: starts.append(r) if r.method == "POST" and urlsplit(r.url).path == "/api/generations"
            else None)
    app.open(init_data(7304))
    page.locator(".model-card[data-model='nano-banana']").click()
    prompt = page.get_by_label("Prompt")
    prompt.fill("x" * 25)
    assert page.locator(".counter").inner_text() == "25 of 20 characters"
    assert prompt.get_attribute("aria-invalid") == "true"
    assert page.locator(".field-error").inner_text() == "The prompt is too long: at most 20 characters."
    page.locator(".main-button").click()
    prompt.fill("   ")
    page.locator(".main-button").click()
    assert page.locator(".field-error").inner_text() == "Write a prompt first."
    assert starts == []
