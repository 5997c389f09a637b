"""The Mini App page: served at `/` from templates/, framed only by Telegram, a strict CSP,
no inline code, every text in both languages, and a small enough download."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.test import override_settings

pytestmark = pytest.mark.django_db

STATIC_DIR = Path(settings.BASE_DIR) / "miniapp" / "static" / "miniapp"
TEMPLATE = Path(settings.BASE_DIR) / "templates" / "miniapp" / "index.html"
ASSET_BUDGET_BYTES = 150 * 1024


def csp_of(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {policy}"
        directives[name] = sources
    return directives


class PageScan(HTMLParser):
    """Every script, stylesheet and inline code of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script_text: list[str] = []
        self.styles: int = 0
        self.style_attrs: list[str] = []
        self.handler_attrs: list[str] = []
        self.stylesheets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        if tag == "style":
            self.styles += 1
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href") or "")
        for name, _value in attrs:
            if name == "style":
                self.style_attrs.append(tag)
            if name.startswith("on"):
                self.handler_attrs.append(f"{tag}[{name}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script_text.append(data)


def test_page_is_served_from_templates(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "miniapp/index.html" in [t.name for t in response.templates]
    assert (Path(settings.BASE_DIR) / "templates" / "miniapp" / "index.html").is_file()
    assert 'data-api-root="/api/"' in response.content.decode()
    assert f'data-prompt-max-length="{settings.GENERATION_PROMPT_MAX_LENGTH}"' in response.content.decode()
    assert f'data-upload-max-bytes="{settings.UPLOAD_MAX_BYTES}"' in response.content.decode()
    # Telegram's webviews cache hard: the page is revalidated so a deploy reaches users.
    assert "no-cache" in response["Cache-Control"]


def test_head_works_and_other_methods_do_not(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_page_loads_telegram_script_and_own_module(client):
    scan = PageScan()
    scan.feed(client.get("/").content.decode())
    sources = [s.get("src") for s in scan.scripts]
    assert "https://telegram.org/js/telegram-web-app.js" in sources
    # Telegram's script runs first (deferred scripts and modules run in document order).
    assert sources.index("https://telegram.org/js/telegram-web-app.js") == 0
    module = [s for s in scan.scripts if s.get("type") == "module"]
    assert [m["src"] for m in module] == [static("miniapp/app.js")]
    assert scan.stylesheets and all(href.endswith("miniapp/app.css") for href in scan.stylesheets)


def test_page_has_no_inline_code(client):
    scan = PageScan()
    scan.feed(client.get("/").content.decode())
    assert all(s.get("src") for s in scan.scripts), "inline <script> would need a CSP nonce"
    assert not scan.inline_script_text
    assert scan.styles == 0, "inline <style> would need a CSP nonce"
    assert not scan.style_attrs
    assert not scan.handler_attrs


def test_csp_is_strict_and_allows_telegram(client):
    csp = csp_of(client.get("/"))
    assert csp["default-src"] == ["'none'"]
    assert set(csp["script-src"]) == {"'self'", "https://telegram.org"}
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert set(csp["img-src"]) == {"'self'", "data:", "blob:"}
    assert "'self'" in csp["media-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert "style-src-elem" not in csp
    for sources in csp.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"} & set(sources)


def test_in_a_frame_only_style_elements_may_be_inline(client):
    """Telegram Web frames the page and its SDK fills a <style> element of its own with
    Telegram's CSS; nothing else is relaxed, and only for a frame."""
    response = client.get("/", headers={"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"})
    csp = csp_of(response)
    assert csp["style-src-elem"] == ["'self'", "'unsafe-inline'"]
    assert csp["style-src"] == ["'self'"]  # style attributes: still refused
    assert set(csp["script-src"]) == {"'self'", "https://telegram.org"}
    assert csp["frame-ancestors"] == list(settings.MINIAPP_FRAME_ANCESTORS)
    relaxed = {name for name, sources in csp.items() if {"'unsafe-inline'", "'unsafe-eval'"} & set(sources)}
    assert relaxed == {"style-src-elem"}
    assert "Sec-Fetch-Dest" in response["Vary"]
    assert "style-src-elem" not in csp_of(client.get("/", headers={"Sec-Fetch-Dest": "document"}))


def test_only_telegram_web_clients_may_frame_the_page(client):
    response = client.get("/")
    # X-Frame-Options DENY (the site default) would block Telegram Web; the page is
    # exempt and frame-ancestors names who may frame it instead.
    assert "X-Frame-Options" not in response
    ancestors = csp_of(response)["frame-ancestors"]
    assert "https://web.telegram.org" in ancestors
    assert all(a.startswith("https://") and a.endswith("telegram.org") for a in ancestors)


def test_rest_of_the_site_still_denies_framing(client):
    response = client.get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY"


@override_settings(MINIAPP_FRAME_ANCESTORS=["https://web.telegram.org", "https://staging-web.example.org"])
def test_frame_ancestors_follow_the_setting(client):
    assert csp_of(client.get("/"))["frame-ancestors"] == ["https://web.telegram.org", "https://staging-web.example.org"]


@override_settings(MEDIA_URL="https://cdn.example.com/media/")
def test_results_on_another_origin_are_allowed_as_images_and_video(client):
    csp = csp_of(client.get("/"))
    assert "https://cdn.example.com" in csp["img-src"]
    assert "https://cdn.example.com" in csp["media-src"]
    assert "https://cdn.example.com" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'"]


def test_results_in_an_object_store_are_allowed_from_its_endpoint(client, s3_media):
    csp = csp_of(client.get("/"))
    assert s3_media.endpoint_url in csp["img-src"] and s3_media.endpoint_url in csp["media-src"]
    assert s3_media.endpoint_url not in csp["script-src"] + csp["connect-src"]


def test_results_in_an_object_store_behind_a_custom_domain_are_allowed_from_that_domain(client, s3_media, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.s3.S3MediaStorage", "OPTIONS": s3_media.storage_options(custom_domain="media.example.org")}}
    csp = csp_of(client.get("/"))
    assert "https://media.example.org" in csp["img-src"] and "https://media.example.org" in csp["media-src"]
    assert s3_media.endpoint_url not in csp["img-src"]


def page_assets() -> list[Path]:
    return sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())


def test_assets_fit_the_budget():
    """The page's own download: its HTML template and every file under static/miniapp/."""
    files = [TEMPLATE, *page_assets()]
    total = sum(p.stat().st_size for p in files)
    assert total < ASSET_BUDGET_BYTES, f"{total} bytes: " + ", ".join(f"{p.name}={p.stat().st_size}" for p in files)


IMPORT = re.compile(r"""^\s*(?:import|export)\s[^"']*?from\s+["']([^"']+)["']""", re.M)


def test_every_module_import_resolves():
    for module in STATIC_DIR.rglob("*.js"):
        for target in IMPORT.findall(module.read_text()):
            assert target.startswith("."), f"{module.name} imports {target}: only relative imports work offline"
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports missing {target}"


def test_static_files_are_found_by_collectstatic():
    from django.contrib.staticfiles import finders

    for path in ["miniapp/app.js", "miniapp/app.css", "miniapp/icon.svg", "miniapp/screens/create.js"]:
        assert finders.find(path), path


def test_no_markup_built_from_strings():
    """Server text (prompts, messages) must never become HTML: the DOM is built with nodes."""
    for module in STATIC_DIR.rglob("*.js"):
        source = module.read_text()
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert risky not in source, f"{module.name} uses {risky}"


def catalog_keys(source: str, name: str) -> set[str]:
    block = re.search(rf"^const {name} = \{{\n(.*?)^\}};", source, re.S | re.M)
    assert block, f"catalog {name} not found"
    return set(re.findall(r"^\s+(\w+):", block.group(1), re.M))


def test_every_text_exists_in_english_and_russian():
    source = (STATIC_DIR / "i18n.js").read_text()
    en, ru = catalog_keys(source, "en"), catalog_keys(source, "ru")
    assert len(en) > 50
    assert en == ru, {"only en": en - ru, "only ru": ru - en}
    used: set[str] = set()
    for module in STATIC_DIR.rglob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*["'](\w+)["']""", module.read_text()))
    assert used, "no t() calls found"
    assert used <= en, f"texts used but not translated: {used - en}"


def test_page_template_texts_are_translated():
    from django.utils import translation

    with translation.override("ru"):
        assert translation.gettext("Loading…") != "Loading…"
        assert translation.gettext("NanoGen needs JavaScript. Open it from the bot in Telegram.").startswith("Для")


def test_production_static_files_hash_module_imports(tmp_path):
    """collectstatic names every module by its content hash, imports included, so a
    deploy never pairs a cached old module with a new one."""
    import json

    from django.core.management import call_command

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "core.storage.StaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed_app = tmp_path / manifest["miniapp/app.js"]
    imports = re.findall(r"""from\s+["']\./([^"']+)["']""", hashed_app.read_text())
    assert "api.js" not in imports and imports
    for target in imports:
        assert f"miniapp/{target}" in manifest.values(), target


def test_devlogin_hint_only_on_a_debug_server(client, settings):
    assert "data-debug" not in client.get("/").content.decode()
    settings.DEBUG = True
    assert 'data-debug="true"' in client.get("/").content.decode()


def test_the_stylesheet_is_well_formed():
    """Every rule closed: one brace too few (a bad merge) silently drops every rule after it."""
    css = re.sub(r"/\*.*?\*/", "", (STATIC_DIR / "app.css").read_text(), flags=re.S)
    depth = 0
    for line_number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert 0 <= depth <= 2, f"app.css line {line_number}: braces out of balance"
    assert depth == 0, "app.css: a rule is never closed"
