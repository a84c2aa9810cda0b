"""The running app (the `app_server` fixture) in a real browser: Debian's chromium via
Playwright. Concurrent sessions against the same server are in tests/test_load.py."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _browser(p):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    return p.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def test_chat_in_a_real_browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        outside: list[str] = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if r.url.startswith("http") and not r.url.startswith(app_url.rstrip("/"))
                else None
            ),
        )
        page.goto(app_url)
        page.fill("#question textarea", "How many L4s to serve Llama 3 8B at 20 requests/s?")
        page.click("#ask")
        page.wait_for_function(
            "document.querySelector('#sources').innerText.includes('[1]')", timeout=90_000
        )
        page.wait_for_selector("#plot img, #plot svg, #plot canvas", timeout=30_000)
        chat = page.inner_text("#chatbot")
        assert "NVIDIA L4" in chat and "Sources" in chat
        assert "[1]" in page.inner_text("#sources")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-chat.png"))
        # Enter sends, Shift+Enter starts a new line; the verdict sits at the top, on screen.
        box = page.locator("#question textarea")
        box.fill("can I run llama 3.1 8b at q4_k_m")
        box.press("Shift+Enter")
        box.type("on one RTX 3090?")
        assert "\n" in box.input_value()
        box.press("Enter")
        page.wait_for_function(
            "document.querySelector('#verdict').innerText.startsWith('Yes')", timeout=90_000
        )
        top = page.locator("#verdict").bounding_box()
        assert top is not None and 0 <= top["y"] < 1000 and top["y"] + top["height"] <= 1000
        assert "RTX 3090" in page.inner_text("#verdict")
        page.screenshot(path=str(ARTIFACTS / "ui-verdict.png"))
        # HTML in a message is shown inert, never executed.
        page.fill("#question textarea", '<img src=x onerror="window.__pwned=1"> IB vs RoCE?')
        page.click("#ask")
        page.wait_for_function(
            "document.querySelector('#chatbot').innerText.includes('InfiniBand')", timeout=90_000
        )
        assert page.evaluate("window.__pwned") is None
        browser.close()
    assert outside == [], f"the page fetched from the internet: {outside[:5]}"
    assert (ARTIFACTS / "ui-chat.png").stat().st_size > 10_000
