"""The Telegram side of the Mini App, for the browser tests.

The page runs Telegram's own telegram-web-app.js (vendor/, routed in place of
https://telegram.org/js/telegram-web-app.js) and talks to an emulated client
(telegram_client.js) the way it talks to Telegram's clients:

- `weba`: Telegram Web A. A page of the https://web.telegram.org origin (routed by
  Playwright, never fetched) frames the Mini App and answers over postMessage.
- `android`: a webview. `TelegramWebviewProxy.postEvent` out, `Telegram.WebView.receiveEvent` in.

`TelegramClient` is the test's handle on the emulated client: the events the page sent,
the native buttons' state, and the user's actions (press the MainButton or the BackButton,
close the invoice sheet, switch the theme).
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).parent
SDK_PATH = HERE / "vendor" / "telegram-web-app.js"
CLIENT_JS = (HERE / "telegram_client.js").read_text()
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
WEB_A_URL = "https://web.telegram.org/a/"


def sdk_record() -> dict[str, str]:
    """vendor/VERSION: where the vendored SDK comes from."""
    lines = (HERE / "vendor" / "VERSION").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


NEWEST_VERSION = sdk_record()["newest_client_version"]
# Client versions the browser tests cover: the first Mini App version, the first of each
# generation of the API, and the newest the vendored SDK knows.
VERSIONS = list(dict.fromkeys(["6.0", "6.4", "7.0", "7.10", "8.0", NEWEST_VERSION]))
PLATFORMS = ["weba", "android"]

# Theme parameters as Telegram's clients send them (Telegram Web A's day and night themes).
LIGHT_THEME = {
    "bg_color": "#ffffff", "secondary_bg_color": "#f4f4f5", "text_color": "#000000", "hint_color": "#707579",
    "link_color": "#3390ec", "button_color": "#3390ec", "button_text_color": "#ffffff",
    "header_bg_color": "#ffffff", "accent_text_color": "#3390ec", "section_bg_color": "#ffffff",
    "section_header_text_color": "#3390ec", "subtitle_text_color": "#707579", "destructive_text_color": "#df3f40",
    "section_separator_color": "#e7e7e7", "bottom_bar_bg_color": "#ffffff",
}
DARK_THEME = {
    "bg_color": "#212121", "secondary_bg_color": "#0f0f0f", "text_color": "#ffffff", "hint_color": "#aaaaaa",
    "link_color": "#8774e1", "button_color": "#8774e1", "button_text_color": "#ffffff",
    "header_bg_color": "#212121", "accent_text_color": "#8774e1", "section_bg_color": "#212121",
    "section_header_text_color": "#aaaaaa", "subtitle_text_color": "#aaaaaa", "destructive_text_color": "#e53935",
    "section_separator_color": "#3b3b3b", "bottom_bar_bg_color": "#212121",
}
# Telegram for Android's default day and night themes: its header is the blue action bar,
# a colour of its own that clients before 6.9 cannot be asked to paint.
ANDROID_LIGHT_THEME = {
    "bg_color": "#ffffff", "secondary_bg_color": "#f0f0f0", "text_color": "#222222", "hint_color": "#a8a8a8",
    "link_color": "#2678b6", "button_color": "#50a8eb", "button_text_color": "#ffffff",
    "header_bg_color": "#527da3", "accent_text_color": "#1c93e3", "section_bg_color": "#ffffff",
    "section_header_text_color": "#3a95d5", "subtitle_text_color": "#82868a", "destructive_text_color": "#cc2929",
    "section_separator_color": "#d9d9d9", "bottom_bar_bg_color": "#f0f0f0",
}
ANDROID_DARK_THEME = {
    "bg_color": "#212d3b", "secondary_bg_color": "#151e27", "text_color": "#ffffff", "hint_color": "#7d8b99",
    "link_color": "#62bcf9", "button_color": "#50a8eb", "button_text_color": "#ffffff",
    "header_bg_color": "#242d39", "accent_text_color": "#64b5ef", "section_bg_color": "#1d2733",
    "section_header_text_color": "#79c4fc", "subtitle_text_color": "#7b8790", "destructive_text_color": "#ee686f",
    "section_separator_color": "#0d1218", "bottom_bar_bg_color": "#151e27",
}
THEMES = {
    ("weba", "light"): LIGHT_THEME, ("weba", "dark"): DARK_THEME,
    ("android", "light"): ANDROID_LIGHT_THEME, ("android", "dark"): ANDROID_DARK_THEME,
}
# What Telegram Web A sends with set_custom_style: its scrollbars, in the frame.
WEB_A_CUSTOM_STYLE = (
    ":root { --scrollbar-width: 6px; } "
    "::-webkit-scrollbar { width: var(--scrollbar-width); height: var(--scrollbar-width); } "
    "::-webkit-scrollbar-thumb { border-radius: 6px; background-color: rgba(128, 128, 128, 0.4); }"
)


def launch_fragment(*, init_data: str, version: str, platform: str, theme_params: dict[str, str]) -> str:
    """The URL fragment a Telegram client opens the Mini App with."""
    params = {
        "tgWebAppData": init_data,
        "tgWebAppVersion": version,
        "tgWebAppPlatform": platform,
        "tgWebAppThemeParams": json.dumps(theme_params, separators=(",", ":")),
    }
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in params.items())


def client_config(*, platform: str, version: str, theme_params: dict[str, str], viewport: dict[str, int],
                  app_url: str = "") -> dict[str, Any]:
    return {
        "platform": platform, "version": version, "themeParams": theme_params, "viewport": viewport,
        "customStyle": WEB_A_CUSTOM_STYLE if platform == "weba" else None, "appUrl": app_url,
    }


def android_init_script(config: dict[str, Any]) -> str:
    """Runs in the webview's page before its own scripts, as Android's injected proxy does."""
    return f"if (window === window.top) {{ {CLIENT_JS}\ninstallTelegramClient({json.dumps(config)}); }}"


def web_a_page(config: dict[str, Any]) -> str:
    """Telegram Web A's Mini App view: a header with the back and close buttons, the frame,
    and the bottom bar with the MainButton."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Telegram</title>
<style>
  html, body {{ margin: 0; height: 100%; font: 15px/1.3 system-ui, sans-serif; }}
  body {{ display: flex; flex-direction: column; }}
  #tg-header {{ display: flex; align-items: center; gap: 8px; height: 56px; padding: 0 8px; flex: none;
    box-sizing: border-box; box-shadow: 0 1px 2px rgba(0, 0, 0, .15); z-index: 1; }}
  #tg-header button {{ border: 0; background: none; color: inherit; font-size: 22px; width: 40px; height: 40px; }}
  #tg-header .title {{ flex: 1; font-weight: 600; font-size: 16px; }}
  #tg-webapp, #tg-frame-slot {{ flex: 1; width: 100%; border: 0; min-height: 0; }}
  #tg-bottom-bar {{ flex: none; padding: 8px; }}
  #tg-bottom-bar[hidden], #tg-back[hidden] {{ display: none; }}
  #tg-main-button {{ width: 100%; height: 48px; border: 0; border-radius: 10px; font: 600 15px system-ui; }}
  #tg-main-button.progress::after {{ content: " …"; }}
</style></head>
<body>
  <div id="tg-header"><button id="tg-back" type="button" aria-label="Back" hidden>&#8592;</button>
    <span class="title">NanoGen</span><button type="button" aria-label="Close">&#215;</button></div>
  <div id="tg-frame-slot"></div>
  <div id="tg-bottom-bar" hidden><button id="tg-main-button" type="button"></button></div>
  <script>{CLIENT_JS}
installTelegramClient({json.dumps(config)});</script>
</body></html>"""


@dataclass
class TelegramClient:
    """The test's handle on the emulated client. It lives in the top-level page: the Web A
    page around the frame, or the webview's page itself."""

    page: Any
    platform: str
    version: str

    def _eval(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Every event the page sent ({"type", "data", "supported"}), or those of one type."""
        return self._eval("t => window.__telegramClient.sent(t)", event_type)

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events()]

    def state(self) -> dict[str, Any]:
        return self._eval("""() => { const c = window.__telegramClient; return {
            mainButton: c.mainButton, backButton: c.backButton, header: c.header, background: c.background,
            bottomBar: c.bottomBar, openInvoices: c.openInvoices, shareSheets: c.shareSheets, links: c.links,
            ready: c.ready, expanded: c.expanded, closed: c.closed, customStyleSent: c.customStyleSent,
            protocolErrors: c.protocolErrors }; }""")

    def main_button(self) -> dict[str, Any]:
        return self.state()["mainButton"]

    def back_visible(self) -> bool:
        return bool(self.state()["backButton"]["is_visible"])

    def protocol_errors(self) -> list[str]:
        return self._eval("() => window.__telegramClient.protocolErrors.slice()")

    def wait_for(self, condition: str, arg: Any = None) -> None:
        """Wait until `condition` (a JS function of the client state `c` and `arg`) holds."""
        self.page.wait_for_function(f"a => {{ const c = window.__telegramClient; return ({condition})(c, a); }}",
                                    arg=arg)

    def wait_for_main_button(self, *, visible: bool = True, text: str | None = None) -> None:
        self.wait_for("(c, a) => Boolean(c.mainButton.is_visible) === a.visible"
                      " && (a.text === null || c.mainButton.text === a.text)", {"visible": visible, "text": text})

    def wait_for_back_button(self, visible: bool) -> None:
        self.wait_for("(c, v) => Boolean(c.backButton.is_visible) === v", visible)

    def wait_for_invoice(self) -> None:
        self.wait_for("c => c.openInvoices.length > 0")

    def press_main(self, *, force: bool = False) -> None:
        self._eval("f => window.__telegramClient.pressMain({force: f})", force)

    def press_back(self) -> None:
        self._eval("() => window.__telegramClient.pressBack()")

    def wait_for_share_sheet(self) -> None:
        self.wait_for("c => c.shareSheets.length > 0")

    def close_share_sheet(self, *, sent: bool) -> None:
        self._eval("s => window.__telegramClient.closeShareSheet(s)", sent)

    def close_invoice(self, status: str) -> None:
        self._eval("s => window.__telegramClient.closeInvoice(s)", status)

    def set_theme(self, theme_params: dict[str, str]) -> None:
        self._eval("p => window.__telegramClient.setTheme(p)", theme_params)
