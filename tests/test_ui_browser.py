"""The running app: a real browser (Debian's chromium via Playwright) and 20 concurrent
gradio_client conversations (latency printed as a benchmark, not asserted)."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(real_kb):
    port = _free_port()
    env = {
        **os.environ,
        "ADVISOR_DATA_DIR": str(real_kb.settings.data_dir),
        "ADVISOR_LLM_BACKEND": "none",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"the app did not start: {err[-2000:]}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


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


def test_twenty_concurrent_conversations(app_url):
    from gradio_client import Client

    questions = [
        "IB vs RoCE?",
        "how much memory to run llama 3.1 8b?",
        "what does 3 years of 8xH100 cost bought vs rented?",
        "what is a TPU pod?",
    ]
    latencies: list[float] = []
    errors: list[BaseException] = []

    def conversation(n: int) -> None:
        try:
            client = Client(app_url, verbose=False)
            for q in (questions[n % len(questions)], "and at 4-bit?"):
                start = time.perf_counter()
                result = client.predict(q, api_name="/chat")
                latencies.append(time.perf_counter() - start)
                history = result[0]
                assert history and history[-1]["role"] == "assistant"
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=conversation, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:3]
    assert len(latencies) == 40
    latencies.sort()
    print(
        f"\n20 concurrent conversations, 40 turns: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {latencies[int(0.95 * len(latencies)) - 1]:.2f} s"
    )
