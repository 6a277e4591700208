"""Browser tests: Playwright drives Debian's chromium against a real uvicorn server on a free
loopback port (the same app as the page tests, so their warm caches are reused; the file
sorts after ``test_cockpit_pages.py`` for that reason).

Screenshots (overview, a root-cause drill-down) and the downloaded recall list are saved to
``$LUOPAN_ARTIFACTS`` (default ``tests/artifacts/``, git-ignored).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cockpit_support import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


def _artifacts() -> Path:
    folder = Path(os.environ.get("LUOPAN_ARTIFACTS") or Path(__file__).parents[1] / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(cockpit_app: Any) -> Iterator[str]:
    """A uvicorn server on a free loopback port, in a thread; stopped after the module."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        cockpit_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(
            locale="zh-CN", accept_downloads=True, viewport={"width": 1440, "height": 1000}
        )
        outside: list[str] = []
        context.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(server) or r.url.startswith("data:")
                else outside.append(r.url)
            ),
        )
        context.set_default_timeout(120_000)  # a cold cache computes models on first view
        pg = context.new_page()
        pg.outside = outside  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def _charts_drawn(pg: Any) -> None:
    pg.wait_for_selector("html[data-charts='ready']")
    assert pg.locator("[data-fig]").count() == pg.locator("[data-drawn='1']").count()


def test_login_scorecard_drill_export_and_language(page: Any, server: str) -> None:
    pg = page
    pg.goto(f"{server}/")
    assert "/login" in pg.url  # anonymous → login
    pg.fill("#username", "boss")
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_selector("#scorecard")
    _charts_drawn(pg)
    assert pg.locator("html").get_attribute("lang") == "zh-CN"
    assert "平衡计分卡" in pg.locator("#scorecard h2").inner_text()
    gmv = pg.locator("tr[data-metric='gmv'] td.actual").inner_text()
    assert gmv.startswith("¥")
    pg.screenshot(path=str(_artifacts() / "cockpit-overview.png"), full_page=True)

    # drill: a red metric → its explorer → its root cause
    red = pg.locator("tr[data-status='red'] td a").first
    label = red.inner_text().replace(" ★", "")
    red.click()
    pg.wait_for_selector("#trend")
    _charts_drawn(pg)
    assert label in pg.locator("h1").inner_text()
    pg.click("#rca-link")
    pg.wait_for_selector("#diagnosis")
    explanation = pg.locator("#explanation").inner_text()
    assert label in explanation and "%" in explanation
    pg.screenshot(path=str(_artifacts() / "cockpit-root-cause.png"), full_page=True)

    # export the recall list (a real download through the API's export route)
    pg.goto(f"{server}/cockpit/customers")
    pg.wait_for_selector("#recall")
    first = pg.locator("#recall tbody tr td").first.inner_text()
    with pg.expect_download() as info:
        pg.click("#export-recall")
    target = _artifacts() / "recall.csv"
    info.value.save_as(str(target))
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("customer_id,") and lines[1].split(",")[0] == first

    # switch language: the same view in English, remembered by the cookie
    pg.goto(f"{server}/")
    pg.click("#lang-toggle")
    pg.wait_for_selector("html[lang='en']")
    assert "balanced scorecard" in pg.locator("#scorecard h2").inner_text()
    pg.goto(f"{server}/cockpit/incidents")
    assert pg.locator("html").get_attribute("lang") == "en"
    assert pg.outside == []  # no request left the machine
