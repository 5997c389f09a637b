"""Share on a result: inside Telegram 8.0+ the result itself goes to a chat through a
prepared message (POST /api/generations/<id>/share, then Telegram's share sheet); older
clients share the result's link, as before."""

import pytest

from telegram_bot.tasks import generation_notify
from tests.factories import UserFactory
from tests.helpers import run_in_threads
from tests.miniapp.e2e.telegram_client import NEWEST_VERSION
from tests.telegram_bot.helpers import generation_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def result(fake_telegram):
    """A completed generation the bot has sent to its user (so Telegram holds the file)."""
    user = UserFactory.create(telegram_id=8101, first_name="Sharer", language_code="en")
    generation = generation_finished(user, prompt="a paper boat on a puddle")
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    assert run_in_threads(1, lambda i: generation_notify(generation.pk)) == ["sent"]
    return generation


def open_result(miniapp_factory, init_data, platform: str, version: str):
    app = miniapp_factory(telegram=platform, version=version)
    app.open(init_data(8101))
    app.wait_ready()
    app.view.locator(".tab[data-screen='history']").click()
    app.view.locator(".history-list li .history-item").first.click()
    app.view.locator(".screen-generation img.result-media").wait_for()
    return app


@pytest.mark.parametrize("platform", ["android", "weba"])
def test_telegram_8_shares_the_result_as_a_prepared_message(miniapp_factory, init_data, result, fake_telegram,
                                                             platform):
    app = open_result(miniapp_factory, init_data, platform, NEWEST_VERSION)

    app.view.get_by_role("button", name="Share").click()
    app.client.wait_for_share_sheet()

    (saved,) = fake_telegram.calls_to("savePreparedInlineMessage")
    assert saved["user_id"] == 8101 and saved["result"]["caption"] == "a paper boat on a puddle"
    (sheet,) = app.client.events("web_app_send_prepared_message")
    assert sheet["data"]["id"].startswith("prepared")
    app.client.close_share_sheet(sent=True)
    app.view.locator(".toast", has_text="Sent.").wait_for()
    assert not app.client.events("web_app_open_tg_link")


def test_an_older_client_shares_the_link(miniapp_factory, init_data, result, fake_telegram):
    app = open_result(miniapp_factory, init_data, "android", "7.10")

    app.view.get_by_role("button", name="Share").click()
    app.client.wait_for("c => c.links.length > 0")

    assert app.client.state()["links"][-1]["path_full"].startswith("/share/url?url=")
    assert not fake_telegram.calls_to("savePreparedInlineMessage")
    assert not app.client.events("web_app_send_prepared_message")
