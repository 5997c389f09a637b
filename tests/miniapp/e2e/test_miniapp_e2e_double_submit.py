"""A double tap, a tap racing the disabled button, or a lost answer retried: one
generation and one debit. The idempotency key is made once per intent and reused."""

import json

import pytest

from accounts.models import CreditKind, CreditLedgerEntry, User
from generations.models import Generation
from tests.factories import UserFactory
from tests.helpers import credits_give
from tests.miniapp.e2e.conftest import IMAGE_PRICE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def rich_user(telegram_id: int) -> User:
    user = UserFactory.create(telegram_id=telegram_id, first_name="Rich", language_code="en")
    credits_give(user, 100)
    return user


def assert_one_generation_one_debit(user: User) -> Generation:
    generations = list(Generation.objects.filter(user=user))
    assert len(generations) == 1, generations
    debits = CreditLedgerEntry.objects.filter(user=user).exclude(kind=CreditKind.GRANT)
    assert [entry.amount for entry in debits] == [-IMAGE_PRICE]
    user.refresh_from_db()
    assert user.credits == 100 - IMAGE_PRICE
    return generations[0]


def is_start(request) -> bool:
    return request.method == "POST" and request.url.endswith("/api/generations")


def record_starts(page) -> list:
    starts: list = []
    page.on("request", lambda r: starts.append(r) if is_start(r) else None)
    return starts


def open_create(app, init_data, telegram_id: int, prompt: str) -> None:
    app.open(init_data(telegram_id))
    app.page.locator(".model-card[data-model='nano-banana']").click()
    app.page.get_by_label("Prompt").fill(prompt)


@pytest.mark.parametrize("how", ["dblclick", "two clicks in one tick"])
def test_double_click_creates_one_generation(miniapp_factory, init_data, catalog, audit_passes, how):
    user = rich_user(7101)
    app = miniapp_factory()
    posts = record_starts(app.page)
    open_create(app, init_data, 7101, "two clicks, one picture")
    if how == "dblclick":
        app.page.locator(".main-button").dblclick()
    else:
        app.page.evaluate("() => { const b = document.querySelector('.main-button'); b.click(); b.click(); }")
    app.page.locator(".screen-generation").wait_for()
    generation = assert_one_generation_one_debit(user)
    assert len(posts) == 1
    assert json.loads(posts[0].post_data)["idempotency_key"] == generation.idempotency_key


def test_racing_taps_on_telegrams_main_button_create_one_generation(miniapp_factory, init_data, catalog, audit_passes):
    user = rich_user(7102)
    app = miniapp_factory(telegram="android")
    posts = record_starts(app.page)
    open_create(app, init_data, 7102, "racing taps")
    client = app.client
    client.wait_for_main_button(text="Generate · 10 credits")
    # Telegram may deliver taps that were made before the button turned grey.
    for _ in range(3):
        client.press_main(force=True)
    app.page.locator(".screen-generation").wait_for()
    assert_one_generation_one_debit(user)
    assert len(posts) == 1
    assert any(e["data"].get("is_progress_visible") for e in client.events("web_app_setup_main_button"))


def test_lost_answer_is_retried_with_the_same_key(miniapp_factory, init_data, catalog, audit_passes):
    """The server starts the generation but the answer never arrives: the page sends the
    same request again with the same key, gets 409 DUPLICATE_REQUEST with the generation
    and shows it. One generation, one debit."""
    user = rich_user(7103)
    app = miniapp_factory()
    sent = []

    def drop_first_answer(route):
        sent.append(json.loads(route.request.post_data))
        response = route.fetch()  # the server handles it for real...
        if len(sent) == 1:
            route.abort("connectionreset")  # ...and the page never hears back
        else:
            route.fulfill(response=response)

    app.page.route("**/api/generations", lambda route: drop_first_answer(route)
                   if route.request.method == "POST" else route.continue_())
    open_create(app, init_data, 7103, "an answer lost on the way")
    app.page.locator(".main-button").click()
    app.page.locator(".screen-generation").wait_for()
    app.page.get_by_text("This request was already sent").wait_for()

    generation = assert_one_generation_one_debit(user)
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0]["idempotency_key"] == generation.idempotency_key
    assert app.page.locator(".gen-prompt").inner_text() == "an answer lost on the way"


def test_a_retry_keeps_the_key_and_a_new_intent_gets_a_new_one(miniapp_factory, init_data, catalog, settings,
                                                              audit_passes):
    """Refused with MAX_ACTIVE_GENERATIONS, the user tries the same request again (same
    key), then edits the prompt: that is another request, with another key."""
    settings.GENERATION_MAX_ACTIVE = 1
    settings.GENERATION_MAX_ACTIVE_RETRY_AFTER = 1
    user = rich_user(7104)
    app = miniapp_factory()
    page = app.page
    starts = record_starts(page)
    main = page.locator(".main-button")

    def submit() -> int:
        with page.expect_response(lambda r: is_start(r.request)) as answer:
            main.click()
        return answer.value.status

    open_create(app, init_data, 7104, "first")
    assert submit() == 201
    page.locator(".screen-generation").wait_for()  # no worker: it stays in progress
    page.locator(".topbar-back").click()
    page.locator(".model-card[data-model='nano-banana']").click()
    page.get_by_label("Prompt").fill("second")
    assert submit() == 429
    page.get_by_text("maximum number of generations in progress").wait_for()
    assert main.is_disabled() and main.inner_text().startswith("Try again in")

    page.wait_for_function("() => !document.querySelector('.main-button').disabled")  # Retry-After: 1
    assert submit() == 429
    page.wait_for_function("() => !document.querySelector('.main-button').disabled")
    page.get_by_label("Prompt").fill("second, edited")
    assert submit() == 429

    keys = [json.loads(r.post_data)["idempotency_key"] for r in starts]
    assert len(keys) == 4, keys
    assert keys[1] != keys[0]
    assert keys[2] == keys[1], "trying the same request again keeps its key"
    assert keys[3] not in keys[:3], "an edited prompt is a new intent with a new key"
    assert Generation.objects.filter(user=user).count() == 1
