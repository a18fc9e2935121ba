"""Browser fixtures: the test app served in-process, one chromium per session, device contexts.

Chromium is Debian's (/usr/bin/chromium) driven by the PyPI playwright package; nothing is
downloaded. Without either the tests skip, or fail where SUITE_TEST_REQUIRE=browser.
Screenshots land in tests/browser/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import require_or_skip

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 10_000

# The product's viewports: a 390 px phone, the Galaxy Tab S4 in portrait (712 px) and the
# 1024 px landscape tablet the product targets (the Tab S4 is 1138 px wide in landscape).
DEVICES = ("phone", "tablet-portrait", "tablet")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


class LiveServer:
    """The app on a free loopback port (threaded werkzeug), counting requests in progress.

    Tests wait for it to be idle before the autouse `_clean_db` wipes the tables, so a request
    the browser sent last (a boosted page's assets, say) never races the wipe.
    """

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.active = 0
        self.changed = threading.Condition()
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.changed:
            self.active += 1
        try:
            # Read the body here and close the response at once: when the browser drops a
            # connection mid-response (a navigation cancels an image), werkzeug's dev server can
            # fail before closing the app's iterable, and the open static file then surfaces as
            # a ResourceWarning in whichever test runs next.
            response = self.app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                if hasattr(response, "close"):
                    response.close()
        finally:
            with self.changed:
                self.active -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float = 5) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.active == 0, timeout), "requests still open"


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    live = LiveServer(app)
    live.thread.start()
    yield live
    live.server.shutdown()
    live.server.server_close()
    live.thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    if importlib.util.find_spec("playwright") is None:
        require_or_skip(
            "browser", "the playwright package is not installed (pip install -e .[dev])"
        )
    if not os.access(CHROMIUM, os.X_OK):
        require_or_skip("browser", f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def device_options(playwright: Any, name: str) -> dict[str, Any]:
    """new_context() options for one of DEVICES, in a Chinese locale like the product's users."""
    if name == "phone":
        options = dict(playwright.devices["iPhone 13"])
    elif name == "tablet-portrait":
        options = dict(playwright.devices["Galaxy Tab S4"])
    elif name == "tablet":
        options = {
            "viewport": {"width": 1024, "height": 768},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        }
    else:
        raise ValueError(name)
    options.pop("default_browser_type", None)
    return {**options, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def new_page(
    playwright: Any, browser: Any, live_server: LiveServer
) -> Iterator[Callable[[str], Any]]:
    """`new_page("phone")`: a page in a fresh context (own cookies) for the device.

    `page.js_errors` collects script errors and console errors (a CSP violation is one); error
    statuses of documents (a 403 page) are left out, tests assert those themselves.
    """
    contexts: list[Any] = []

    def make(device: str) -> Any:
        context = browser.new_context(
            base_url=live_server.url, **device_options(playwright, device)
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []

        def on_console(msg: Any) -> None:
            if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
                page.js_errors.append(f"{page.url}: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: page.js_errors.append(f"{page.url}: {exc}"))
        return page

    yield make
    for context in contexts:
        context.close()
    live_server.wait_idle()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """`screenshot(page, "phone-login-zh")`: a full-page PNG in tests/browser/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def shoot(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-page
        # caret="initial": hiding the caret leaves style="" on every input, which htmx then
        # copies while settling a swap, and the CSP reports each copy as an inline style.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return shoot


@pytest.fixture
def demo(app: Flask) -> Any:
    """The demo workspace with one user per role (logins `admin`, `staff`, ...)."""
    from suite.db import db
    from suite.demo import seed_demo

    with app.app_context():
        ws, _ = seed_demo()
        db.session.refresh(ws)
        db.session.expunge(ws)
        db.session.remove()
    return ws


@pytest.fixture
def inside(app: Flask, demo: Any) -> Any:
    """`with inside(): ...` reads rows in the demo workspace."""
    from tests.helpers.demo import in_workspace

    return lambda: in_workspace(app, demo.id)
