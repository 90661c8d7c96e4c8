"""The pages in a real browser: Debian's chromium through chromium-driver and Selenium.

Every page of the demo newsroom's archive is opened at desktop and phone width, in light
and dark mode; the filters, pagination and the diff layouts are used as a reader would.
Each page must log no console error, request nothing outside the server's origin, fit a
360 px screen, and pass axe-core (from npm, injected by the test) without serious
violations. The sanitizer corpus is then opened in every page: no script may run.

Skips, saying why, where chromium, chromedriver, Selenium or axe-core are missing
(.ci/run installs them); `make test` still passes on a laptop without them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Settings
from monitor.models import ChangeKind
from monitor.store import ChangeFilter, WebStore
from monitor.store.sql import SQLStore
from monitor.web.app import SITE_KEY, start_site
from tests.web.conftest import Archive

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PAGES = (
    "/",
    "/feeds",
    "/seeds",
    "/alerts",
    "/search?q=30%2C000",
    "/articles/{edited}",
    "/articles/{first}",
)
PHONE, DESKTOP = 360, 1280
# NEWSMONITOR_SCREENSHOTS=docs/screenshots keeps these pages' screenshots (README, "Web").
SHOTS = (
    Path(os.environ["NEWSMONITOR_SCREENSHOTS"]) if "NEWSMONITOR_SCREENSHOTS" in os.environ else None
)
SHOT_PAGES = {"/": "changes", "/articles/{edited}": "article", "/seeds": "seeds"}
# Defined before any page script: a script that runs anyway would be counted.
TRIPWIRE = """
window.__ran = [];
for (const name of ['alert', 'confirm', 'prompt', 'print', 'open']) {
  window[name] = (...args) => { window.__ran.push(name); };
}
"""


def _require_browser() -> None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("browser tests: selenium is not installed (pip install -e '.[dev]')")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            pytest.skip(f"browser tests: {path} not found (apt-get install {package})")


class ServerThread:
    """The web server on loopback, on an event loop in a thread of its own (Selenium's
    calls block)."""

    def __init__(self, settings: Settings, store: WebStore) -> None:
        self.settings, self.store = settings, store
        self.loop = asyncio.new_event_loop()
        self.base = ""
        self.edited = 0  # an article with an edit, side by side with its first version
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner, address = self.loop.run_until_complete(
            start_site(self.settings, self.store, "127.0.0.1", 0)
        )
        self.base = address.rstrip("/")
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(20), "the server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        site = self.runner.app[SITE_KEY]
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(20)
        self.loop.close()
        site.close()


class Browser:
    """A headless chromium that records console messages and every request it makes."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRIPWIRE})
        self.width(DESKTOP)

    def width(self, pixels: int) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": pixels, "height": 800, "deviceScaleFactor": 1, "mobile": pixels < 600},
        )

    def scheme(self, dark: bool) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
        )

    def open(self, url: str) -> None:
        self.drain()
        self.driver.get(url)

    def drain(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Console entries, and the URLs requested since the last call that the browser
        did not block itself (a request the page's CSP stopped never left)."""
        console = self.driver.get_log("browser")
        sent: dict[str, str] = {}
        blocked: set[str] = set()
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                sent[params["requestId"]] = params["request"]["url"]
            elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
                blocked.add(params["requestId"])
        return console, [url for key, url in sent.items() if key not in blocked]

    def navigated_to(self, wanted: str, timeout: float = 20) -> None:
        """Wait until the address contains ``wanted`` and that page has loaded."""
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(expected_conditions.url_contains(wanted))
        WebDriverWait(self.driver, timeout).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_browser()
    opened = Browser()
    yield opened
    opened.quit()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"browser tests: axe-core not found at {AXE} (.ci/run installs it with npm)")
    return AXE.read_text(encoding="utf-8")


def assert_clean(browser: Browser, base: str, where: str) -> None:
    """No console error, nothing requested off the server's origin, no script ran."""
    console, requests = browser.drain()
    errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
    assert errors == [], where
    # data: URLs leave nothing (chromium's own date-picker icon is one).
    outside = [u for u in requests if not u.startswith((base + "/", "data:"))]
    assert outside == [], where
    assert browser.script("return window.__ran") == [], where


def assert_accessible(browser: Browser, axe: str, where: str) -> None:
    """axe-core's WCAG A and AA rules: no serious or critical violation."""
    browser.script(axe)
    result = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe failed', impact: 'critical', nodes: [String(e)]}]));"
    )
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == [], where


@pytest.fixture(scope="module")
def demo_site(demo_archive: Archive) -> Iterator[ServerThread]:
    store = SQLStore.open(demo_archive.url, read_only=True)
    try:
        with ServerThread(demo_archive.settings(page_size=4), store) as server:
            edits = store.page_changes(ChangeFilter(kind=ChangeKind.CHANGED), 10)
            server.edited = max(edits, key=lambda c: len(c.tags)).article_id
            yield server
    finally:
        store.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_is_clean_accessible_and_fits(
    browser: Browser, axe_source: str, demo_site: ServerThread, width: int, dark: bool
) -> None:
    browser.width(width)
    browser.scheme(dark)
    try:
        for page in PAGES:
            path = page.format(edited=demo_site.edited, first=1)
            where = f"{path} at {width}px{' dark' if dark else ''}"
            browser.open(demo_site.base + path)
            assert browser.driver.title.endswith("Newsmonitor"), where
            overflow = browser.script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{where}: {overflow}px wider than the screen"
            background = browser.script("return getComputedStyle(document.body).backgroundColor")
            assert background == ("rgb(21, 23, 26)" if dark else "rgb(255, 255, 255)"), where
            assert_accessible(browser, axe_source, where)
            assert_clean(browser, demo_site.base, where)
            if SHOTS and page in SHOT_PAGES:
                name = f"{SHOT_PAGES[page]}-{'phone' if width == PHONE else 'desktop'}"
                browser.driver.save_screenshot(
                    str(SHOTS / f"{name}-{'dark' if dark else 'light'}.png")
                )
    finally:
        browser.width(DESKTOP)
        browser.scheme(False)


def test_filters_pagination_and_diff_layouts_work_by_hand(
    browser: Browser, demo_site: ServerThread
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def follow(locator: tuple[str, str], wanted: str) -> None:
        """Click, then wait (bounded) for the page the click navigates to."""
        browser.driver.find_element(*locator).click()
        browser.navigated_to(wanted)

    browser.open(demo_site.base + "/")
    Select(browser.driver.find_element(By.ID, "f-kind")).select_by_visible_text("changed")
    follow((By.CSS_SELECTOR, "form.filters button"), "kind=changed")
    kinds = [e.text for e in browser.driver.find_elements(By.CSS_SELECTOR, "li.change .kind")]
    assert kinds and set(kinds) == {"changed"}
    assert_clean(browser, demo_site.base, "filtered")

    browser.open(demo_site.base + "/")
    first = [e.text for e in browser.driver.find_elements(By.CSS_SELECTOR, ".headline a")]
    follow((By.CSS_SELECTOR, 'a[rel="next"]'), "after=")
    second = [e.text for e in browser.driver.find_elements(By.CSS_SELECTOR, ".headline a")]
    assert len(first) == 4 and second
    assert_clean(browser, demo_site.base, "page 2")

    browser.open(demo_site.base + "/?kind=changed")
    follow((By.PARTIAL_LINK_TEXT, "diff v"), "#diff")
    assert browser.driver.find_elements(By.CSS_SELECTOR, "div.diff ins, div.diff del")
    follow((By.LINK_TEXT, "Side by side"), "mode=side-by-side")
    headers = browser.driver.find_elements(By.CSS_SELECTOR, "div.diff th")
    assert len(headers) >= 2
    # Insertions are underlined and deletions struck through: not told by colour alone.
    for selector, decoration in (("div.diff ins", "underline"), ("div.diff del", "line-through")):
        for element in browser.driver.find_elements(By.CSS_SELECTOR, selector)[:3]:
            assert decoration in element.value_of_css_property("text-decoration"), selector
    follow((By.LINK_TEXT, "Inline"), "mode=inline")
    assert_clean(browser, demo_site.base, "diff layouts")


def test_no_script_of_the_sanitizer_corpus_runs_in_any_page(
    browser: Browser, tmp_path: Path
) -> None:
    from tests.test_sanitize import corpus_files
    from tests.web.test_hostile import _fill, hostile_settings

    corpus_files()  # skips, naming the folder, when the corpora are absent
    settings = hostile_settings(tmp_path)
    with SQLStore.open(settings.storage.url) as store:
        articles = _fill(store, "hostile")
        with ServerThread(settings, store) as server:
            paths = ["/", "/?after=0-0", "/seeds", "/feeds", "/alerts"]
            paths += [f"/articles/{n}" for n in range(1, articles + 1, 9)]
            paths += [f"/articles/{n}?mode=side-by-side" for n in range(5, articles + 1, 40)]
            for path in paths:
                browser.open(server.base + path)
                assert_clean(browser, server.base, path)
            for number in range(1, articles + 1, 60):
                # The capture itself, in its sandbox: its scripts are the corpus's, and
                # none may run or fetch anything.
                browser.open(f"{server.base}/articles/{number}/versions/2/raw?as=html")
                _, requests = browser.drain()
                assert [url for url in requests if "/raw?as=html" not in url] == [], number
                ran = browser.script("return window.__ran === undefined ? [] : window.__ran")
                assert ran == [], number
