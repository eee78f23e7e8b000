"""A live server on a free port and Debian's Chromium driven by Playwright (never downloaded)."""

import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip(
            "Debian's chromium is not installed here (apt-get install chromium); CI installs it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context; fails the test on any request leaving the app or a CSP error."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    outside, problems = [], []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server) else outside.append(request.url)
        ),
    )
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.base_url = live_server
    yield page
    context.close()
    assert outside == [], f"requests outside the app: {outside}"
    assert problems == [], f"browser console errors: {problems}"


def open_menu(page, toggle) -> None:
    """Click a Bootstrap menu or collapse toggle as a person does once the page has finished
    loading: before its script has run, a click does nothing (seen on a busy machine)."""
    page.wait_for_load_state("load")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
