"""The browser enforces the page's Content-Security-Policy, and the tests would see a
violation: every Mini App page fails its test on one (see conftest), so this checks that
the watch works, with a script injected the way an XSS would be."""

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_injected_inline_script_is_refused_and_noticed(miniapp_factory, init_data):
    UserFactory.create(telegram_id=7901, first_name="Safe", language_code="en")
    app = miniapp_factory(telegram="fake")
    page = app.page
    app.open(init_data(7901))
    page.wait_for_selector("html[data-ready='true']")
    assert not app.errors  # Telegram's script and ours load under the policy

    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true";
      document.body.append(s);
      const st = document.createElement("style");
      st.textContent = "body { display: none }";
      document.head.append(st);
    }""")
    assert page.evaluate("window.__injected === undefined")
    assert page.locator("body").is_visible()

    def violations() -> list[str]:
        return [e for e in app.errors if e.startswith("CSP:")]

    # Console messages arrive a moment later: wait for them, within a bounded time.
    for _ in range(100):
        if len(violations()) >= 2:
            break
        page.wait_for_timeout(50)
    assert any("script-src" in v for v in violations()), app.errors
    assert any("style-src" in v for v in violations()), app.errors
    app.errors.clear()  # expected here; anywhere else they fail the test
