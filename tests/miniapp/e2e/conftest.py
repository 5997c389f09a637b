"""Browser fixtures for the Mini App's end-to-end tests.

Headless Debian Chromium driven by Playwright (never `playwright install`), against
pytest-django's live server on the test database. Requests to telegram.org never leave
the machine: they are aborted (the page then runs as outside Telegram, a plain browser)
or answered with Telegram's own telegram-web-app.js (vendor/), and the page then talks to
an emulated Telegram client (telegram_client.py): Telegram Web A framing it, or an
Android webview. Every page fails its test on a JavaScript error, an unhandled promise
rejection, a Content-Security-Policy violation, a warning or error of the SDK
(`[Telegram.WebApp] ...`) or an event a real client would refuse.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.helpers import init_data_for
from tests.miniapp.e2e.telegram_client import (
    NEWEST_VERSION,
    SDK_PATH,
    TELEGRAM_SCRIPT,
    THEMES,
    WEB_A_URL,
    TelegramClient,
    android_init_script,
    client_config,
    launch_fragment,
    web_a_page,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Telegram Web A's page (a routed https://web.telegram.org) frames the live server on
    # localhost: a public page reaching a local address, which Chromium would hold back.
    "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessForNavigations,BlockInsecurePrivateNetworkRequests",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 760}
# Reported to the console, where the tests see it: an unhandled rejection is a defect
# even when Chromium would only log it.
REPORT_REJECTIONS = """window.addEventListener("unhandledrejection", (event) => {
  const reason = event.reason;
  console.error("unhandledrejection: " + (reason && reason.stack ? reason.stack : String(reason)));
});"""


@pytest.fixture
def playwright_browser() -> Iterator[Any]:
    """A browser per test. Playwright's sync API runs an asyncio loop on this thread while it
    is open; one kept for the whole session would make Django refuse every later test's
    database calls (SynchronousOnlyOperation), so it closes with its test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev.txt installs it
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: scripts/ensure-chromium installs Debian's chromium "
            "(it needs root and apt-get); or set CHROMIUM_PATH"
        )
    from django.db import connections

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Database connections the test opened while Playwright's loop ran belong to that
        # (async-looking) context: Django's own teardown would not see them, and the test
        # database could not be dropped at the end of the run.
        connections.close_all()


@pytest.fixture(autouse=True)
def _django_allow_sync_orm_next_to_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # While a browser is open, Playwright's sync API keeps an asyncio loop on the test's
    # thread; Django would take the test's own ORM calls for calls from async code. They
    # are plain sync calls. (The live server answers the page from its own thread.)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


UNLABELLED_JS = """() => {
  const text = (el) => (el ? el.textContent : "").trim();
  const nameOf = (el) => (el.getAttribute("aria-label") || "").trim()
    || (el.id && text(document.querySelector(`label[for="${CSS.escape(el.id)}"]`)))
    || text(el.closest("label"))
    || (["BUTTON", "A"].includes(el.tagName) ? text(el) : "");
  const problems = [];
  for (const el of document.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea")) {
    if (el.getAttribute("aria-hidden") === "true" || !el.getClientRects().length) continue;
    if (!nameOf(el)) problems.push(el.outerHTML.slice(0, 160));
  }
  for (const img of document.querySelectorAll("img:not([alt])")) problems.push(img.outerHTML.slice(0, 160));
  return problems;
}"""


@dataclass
class MiniApp:
    """One browser page of the Mini App and what it reported.

    `page` is the browser tab; `view` is where the Mini App's document is (the tab itself,
    or Telegram Web A's frame); `client` is the emulated Telegram client, None outside
    Telegram."""

    page: Any
    base_url: str
    platform: str = "absent"
    version: str = NEWEST_VERSION
    theme_params: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    client: TelegramClient | None = None
    view: Any = None
    web_a_html: str = ""

    def open(self, init_data: str | None, *, theme_params: dict[str, str] | None = None) -> None:
        if self.platform == "absent":
            self._open_in_browser(init_data, theme_params)
            return
        assert self.client is None, "one launch per page inside Telegram"
        assert init_data is not None, "a Telegram client always passes init data"
        theme = theme_params or self.theme_params
        fragment = launch_fragment(init_data=init_data, version=self.version, platform=self.platform,
                                   theme_params=theme)
        app_url = f"{self.base_url}/#{fragment}"
        viewport = {"width": PHONE["width"], "height": PHONE["height"]}
        config = client_config(platform=self.platform, version=self.version, theme_params=theme,
                               viewport=viewport, app_url=app_url)
        self.client = TelegramClient(page=self.page, platform=self.platform, version=self.version)
        if self.platform == "weba":
            self.web_a_html = web_a_page(config)
            self.page.goto(WEB_A_URL)
            self.view = self._app_frame()
        else:
            self.page.add_init_script(android_init_script(config))
            self.page.goto(app_url)
            self.view = self.page

    def _open_in_browser(self, init_data: str | None, theme_params: dict[str, str] | None) -> None:
        fragment = []
        if init_data is not None:
            fragment.append(f"tgWebAppData={quote(init_data, safe='')}")
        if theme_params is not None:
            import json

            fragment.append(f"tgWebAppThemeParams={quote(json.dumps(theme_params), safe='')}")
        url = self.base_url + "/" + (f"#{'&'.join(fragment)}" if fragment else "")
        self.page.goto(url)
        self.view = self.page

    def _app_frame(self) -> Any:
        for _ in range(200):  # bounded: the frame navigates within a moment
            frame = self.page.frame(url=lambda url: url.startswith(self.base_url))
            if frame is not None:
                frame.wait_for_load_state("domcontentloaded")
                return frame
            self.page.wait_for_timeout(50)
        raise AssertionError("Telegram Web A's frame never loaded the Mini App")

    def wait_ready(self) -> None:
        self.view.wait_for_selector("html[data-ready='true']")

    def unlabelled(self) -> list[str]:
        """Visible controls a screen reader could not name, and images without alt."""
        return (self.view or self.page).evaluate(UNLABELLED_JS)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def problems(self) -> list[str]:
        found = list(self.errors)
        if self.client is not None and not self.page.is_closed():
            try:
                found += [f"protocol: {e}" for e in self.client.protocol_errors()]
            except Exception as exc:  # the page went away: say so rather than hide it
                found.append(f"protocol: the client could not be read ({exc})")
        return found


def _on_console(app: MiniApp) -> Callable[[Any], None]:
    def on_console(message: Any) -> None:
        text = message.text
        source = (message.location or {}).get("url", "")
        if "Content Security Policy" in text:
            app.errors.append(f"CSP: {text}")
        elif text.startswith("[Telegram.WebApp]") and message.type in ("warning", "error"):
            # The SDK warns when a method is used that the client's version lacks, and
            # logs an error before each exception it throws.
            app.errors.append(f"SDK {message.type}: {text}")
        elif message.type == "error":
            # Telegram's script is unreachable on purpose outside Telegram, and API error
            # answers (402, 429...) are part of the tests; anything else is a defect.
            expected = source.startswith("https://telegram.org/") or (
                "/api/" in source and text.startswith("Failed to load resource"))
            if not expected:
                app.errors.append(f"console: {text} ({source})")

    return on_console


@pytest.fixture
def miniapp_factory(live_server: Any, playwright_browser: Any) -> Iterator[Callable[..., MiniApp]]:
    contexts = []
    apps: list[MiniApp] = []
    sdk = SDK_PATH.read_text()

    def make(*, color_scheme: str = "light", locale: str = "en-US", telegram: str = "absent",
             version: str = NEWEST_VERSION) -> MiniApp:
        """telegram="absent": telegram.org is unreachable (a browser outside Telegram);
        "weba" or "android": Telegram's SDK and a Telegram client of that `version`, its
        theme following `color_scheme`."""
        assert telegram in ("absent", "weba", "android"), telegram
        context = playwright_browser.new_context(
            viewport=PHONE, device_scale_factor=2, color_scheme=color_scheme, locale=locale, is_mobile=True,
            has_touch=True,
        )
        contexts.append(context)
        context.add_init_script(REPORT_REJECTIONS)
        app: MiniApp
        # Playwright tries the routes last-registered first.
        context.route("https://telegram.org/**", lambda route: route.abort())
        if telegram != "absent":
            context.route(TELEGRAM_SCRIPT + "*", lambda route: route.fulfill(
                status=200, content_type="application/javascript", body=sdk))
            context.route("https://web.telegram.org/**", lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=app.web_a_html))
        # Anything else off this machine is a bug in the page: fail loudly, never reach out.
        local = (live_server.url, "https://telegram.org/", "https://web.telegram.org/", "data:", "blob:")
        context.route(lambda url: not url.startswith(local), lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(15_000)
        app = MiniApp(page=page, base_url=live_server.url, platform=telegram, version=version,
                      theme_params=dict(THEMES.get((telegram, color_scheme), {})))
        page.on("console", _on_console(app))
        page.on("pageerror", lambda error: app.errors.append(f"pageerror: {error}"))
        apps.append(app)
        return app

    yield make
    problems = [e for app in apps for e in app.problems()]
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def init_data() -> Callable[..., str]:
    return init_data_for



# --- The service behind the page -----------------------------------------------------------

IMAGE_PRICE = 10


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    """Catalog entries of our own, run by the offline demo provider: a transactional
    test's flush removes the data migration's default catalog."""
    from generations.models import AIModel

    image, _ = AIModel.objects.update_or_create(slug="nano-banana", defaults=dict(
        name="Nano Banana", kind=AIModel.Kind.IMAGE, provider=AIModel.Provider.DEMO, is_active=True,
        provider_model_id="google/gemini-2.5-flash-image", price=IMAGE_PRICE, sort_order=1,
        description="Fast, sharp pictures from a sentence.",
        params_schema={"aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9", "9:16"], "default": "1:1"}},
    ))
    video, _ = AIModel.objects.update_or_create(slug="demo-video", defaults=dict(
        name="Demo Video", kind=AIModel.Kind.VIDEO, provider=AIModel.Provider.DEMO, is_active=True,
        provider_model_id="demo/video", price=50, sort_order=2, description="Five-second clips.",
        params_schema={"duration": {"type": "choice", "choices": [5, 10], "default": 5}},
    ))
    # The data migration's catalog is there in a fresh database; only ours is on sale.
    AIModel.objects.exclude(pk__in=[image.pk, video.pk]).update(is_active=False)
    return {"image": image, "video": video}


@pytest.fixture
def photo_catalog(catalog: dict[str, Any]) -> dict[str, Any]:
    """The catalog with input images and price rules, as the default one has them now:
    nano-banana edits 0 to 3 photos and makes 1 to 4 pictures (10 credits each, +2 a
    photo); demo-video animates a photo (the prompt optional then), 10 credits a second."""
    image, video = catalog["image"], catalog["video"]
    image.images_min, image.images_max = 0, 3
    image.params_schema = {**image.params_schema, "num_images": {"type": "integer", "min": 1, "max": 4, "default": 1}}
    image.price_rule = {"base": IMAGE_PRICE, "factors": {"num_images": "value"}, "per_image": 2}
    image.save()
    video.images_min, video.images_max, video.prompt_optional_with_images = 0, 1, True
    video.price_rule = {"base": 10, "factors": {"duration": "value"}}
    video.save()
    return catalog


@pytest.fixture
def worker(settings: Any) -> Iterator[Any]:
    """The generation worker, in-process: a thread that hands every pending generation to
    the worker's own task function (what qcluster would run for the queued task), and
    every processing one to the follow-up step (what its schedule would run), with
    the offline demo provider taking a moment, as a real provider would. It yields a
    control: pause() keeps new generations pending until resume()."""
    import threading

    from django.db import connection

    from generations.models import Generation
    from generations.tasks import generation_attempt, generation_run

    settings.AIMLAPI_KEY = ""
    settings.DEMO_PROVIDER_DELAY_SECONDS = 1.5
    # A video is a job polled by follow-up steps; qcluster's scheduler would run them.
    settings.GENERATION_POLL_INTERVAL_SECONDS = 0.5
    stop = threading.Event()
    running = threading.Event()
    running.set()
    failures: list[BaseException] = []

    def loop() -> None:
        try:
            while not stop.is_set():
                if running.is_set():
                    for generation_id in Generation.objects.filter(status=Generation.Status.PENDING).values_list(
                        "id", flat=True
                    ):
                        generation_run(generation_id)
                    # The follow-up steps of jobs (a step that is not due yet does nothing).
                    for generation_id in Generation.objects.filter(
                        status=Generation.Status.PROCESSING
                    ).values_list("id", flat=True):
                        generation_attempt(generation_id)
                stop.wait(0.2)
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="generation-worker", daemon=True)
    thread.start()

    class Control:
        def pause(self) -> None:
            running.clear()

        def resume(self) -> None:
            running.set()

    yield Control()
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the worker thread did not stop"
    assert not failures, failures


@pytest.fixture
def packs(db: None) -> list[Any]:
    """Credit packs of our own (the data migration's do not survive a flush)."""
    from payments.models import CreditPack
    from tests.factories import CreditPackFactory

    CreditPack.objects.all().update(is_active=False)
    return [
        CreditPackFactory.create(slug="e2e-small", title="Starter", title_ru="Стартовый", stars=50, credits=50,
                                 sort_order=1),
        CreditPackFactory.create(slug="e2e-plus", title="Plus", title_ru="Плюс", stars=200, credits=220,
                                 sort_order=2),
    ]
