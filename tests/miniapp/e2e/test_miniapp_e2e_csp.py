"""The browser enforces the page's Content-Security-Policy, and the tests would see a
violation: every Mini App page fails its test on one (see conftest), so this checks that
the watch works, with a script injected the way an XSS would be."""

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_injected_inline_script_is_refused_and_noticed(miniapp_factory, init_data):
    UserFactory.create(telegram_id=7901, first_name="Safe", language_code="en")
    app = miniapp_factory(telegram="android")
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


def test_in_telegram_web_only_the_sdks_style_element_is_let_in(miniapp_factory, init_data):
    """Framed by Telegram Web, the page admits inline <style> elements (the SDK's, with
    Telegram's CSS), and nothing else inline: scripts and style attributes stay refused."""
    UserFactory.create(telegram_id=7902, first_name="Framed", language_code="en")
    app = miniapp_factory(telegram="weba")
    app.open(init_data(7902))
    app.wait_ready()
    frame = app.view
    frame.wait_for_function("() => [...document.querySelectorAll('head style')]"
                            ".some((s) => s.textContent.includes('--scrollbar-width'))")
    assert not app.errors
    frame.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true";
      document.body.append(s);
      document.body.setAttribute("style", "display: none");
    }""")
    assert frame.evaluate("window.__injected === undefined")
    assert frame.locator("body").is_visible()
    for _ in range(100):
        if len([e for e in app.errors if e.startswith("CSP:")]) >= 2:
            break
        app.page.wait_for_timeout(50)
    violations = [e for e in app.errors if e.startswith("CSP:")]
    assert any("script-src" in v for v in violations), app.errors
    assert any("style-src" in v for v in violations), app.errors
    app.errors.clear()  # expected here; anywhere else they fail the test
