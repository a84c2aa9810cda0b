"""The index in a real `chroma run` server that is unreachable, stopped, killed mid-query or
dropping connections. Required: a typed error naming the server and the cause
(IndexUnavailableError; one `error:` line and exit 2 in the CLI), never a hang (each request
is bounded by ADVISOR_CHROMA_TIMEOUT_S), exactly 1 + ADVISOR_CHROMA_RETRIES attempts with
doubling waits, answers from the calculators still given (with a warning), and the same
Advisor answering again once the server is back."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from servers import ChromaServer, FlakyProxy

from advisor import remote
from advisor.config import Settings
from advisor.core import Advisor
from advisor.errors import IndexUnavailableError
from advisor.load import free_port

pytestmark = pytest.mark.integration
GUIDANCE_Q = "IB vs RoCE?"  # only the guides answer it
CALC_Q = "how much memory does llama 3.1 70b need?"  # the calculators answer it
HANG_GUARD_S = 120  # a call still running after this long is a hang (not a speed limit)


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "advisor.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ADVISOR_LLM_BACKEND": "none", **env},
        timeout=HANG_GUARD_S,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _settings(url: str, data_dir, **kw) -> Settings:
    base = {"chroma_timeout_s": 1.0, "chroma_retries": 1, "chroma_retry_backoff_s": 0.05}
    return Settings(chroma_url=url, data_dir=data_dir, llm_backend="none", **{**base, **kw})


def _background(fn, *args) -> concurrent.futures.Future:
    """``fn(*args)`` in a daemon thread (a hung call cannot block the test's exit)."""
    future: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


def _guarded(fn, *args):
    """``fn(*args)``; a call that outlives HANG_GUARD_S is a hang and fails the test."""
    try:
        return _background(fn, *args).result(timeout=HANG_GUARD_S)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"{fn.__name__} hung: no result after {HANG_GUARD_S} s")


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    """A real `chroma run` server on 127.0.0.1 holding the guides, indexed by `advisor index`."""
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "db")
    server.start()
    try:
        built = _cli("index", ADVISOR_CHROMA_URL=server.url, ADVISOR_DATA_DIR=str(root / "d"))
        assert built.returncode == 0, built.stderr[-2000:]
        yield server
    finally:
        server.stop()


@pytest.fixture
def live(chroma):
    """The shared server, running again after the test (resumed or restarted)."""
    yield chroma
    if chroma.proc is not None and chroma.proc.poll() is None:
        os.kill(chroma.pid, signal.SIGCONT)
    else:
        chroma.start()


# -- unreachable ----------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["index"], ["ask", GUIDANCE_Q], ["serve"]])
def test_unreachable_port_is_one_clear_error(tmp_path, command):
    """Nothing listens on the port: every command ends in one line naming the server."""
    url = f"http://127.0.0.1:{free_port()}"
    args = [*command, "--port", str(free_port())] if command == ["serve"] else command
    line = _one_error_line(_cli(*args, ADVISOR_CHROMA_URL=url, ADVISOR_DATA_DIR=str(tmp_path)))
    assert f"the Chroma server at {url} did not answer (connection refused" in line
    assert "3 attempts" in line  # the default: 2 retries
    assert not (tmp_path / "chroma").exists()  # no embedded index made instead


@pytest.mark.parametrize("retries", [0, 2, 4])
def test_attempts_are_bounded_by_the_retries_setting(tmp_path, retries):
    """A server that takes each request and drops the connection unanswered: exactly
    1 + retries connections, then the typed error."""
    proxy = FlakyProxy(target_port=None)
    try:
        advisor = Advisor.from_settings(_settings(proxy.url, tmp_path, chroma_retries=retries))
        with pytest.raises(IndexUnavailableError, match="the connection was dropped") as exc:
            _guarded(advisor.ask, GUIDANCE_Q)
        assert proxy.connections == retries + 1
        assert f"{retries + 1} attempt" in str(exc.value)
    finally:
        proxy.close()


def test_backoff_doubles_with_jitter(monkeypatch):
    """0.25 s, then 0.5 s, then 1 s (each drawn from its upper half), then the error."""
    import httpx

    waits: list[float] = []
    monkeypatch.setattr(remote.time, "sleep", waits.append)
    settings = Settings(chroma_url="http://127.0.0.1:9", chroma_retries=3)

    def refused():
        raise httpx.ConnectError("refused")

    with pytest.raises(IndexUnavailableError, match="4 attempts"):
        remote.call(settings, "read the index", refused)
    assert len(waits) == 3
    for wait, top in zip(waits, (0.25, 0.5, 1.0), strict=True):
        assert top / 2 <= wait <= top


def test_other_errors_are_not_retried():
    calls = []

    def bad_request():
        calls.append(1)
        raise KeyError("no such collection")

    with pytest.raises(KeyError):
        remote.call(Settings(chroma_url="http://127.0.0.1:9"), "read the index", bad_request)
    assert len(calls) == 1


def test_a_retry_gets_the_answer_after_dropped_connections(chroma, tmp_path):
    """The first two connections are dropped mid-request; with 2 retries the third one
    reaches the real server and the question is answered from it."""
    proxy = FlakyProxy(target_port=chroma.port, drop_first=2)
    try:
        advisor = Advisor.from_settings(_settings(proxy.url, tmp_path, chroma_retries=2))
        answer = _guarded(advisor.ask, GUIDANCE_Q)
        assert answer.citations and "InfiniBand" in answer.text
        assert proxy.dropped == 2 and proxy.connections > 2
    finally:
        proxy.close()


# -- a real server that stops or dies ---------------------------------------------------------
def test_answers_come_from_the_server(chroma, tmp_path):
    answer = Advisor.from_settings(_settings(chroma.url, tmp_path)).ask(GUIDANCE_Q)
    assert answer.covered and answer.citations and "InfiniBand" in answer.text
    assert not (tmp_path / "chroma").exists()


def test_stopped_server_times_out_then_the_same_advisor_recovers(live, tmp_path):
    """SIGSTOP: the server accepts connections (the kernel does) but never answers, which
    hangs chromadb's own client forever. Here: a timeout, the retry, the typed error."""
    advisor = Advisor.from_settings(_settings(live.url, tmp_path))
    assert advisor.ask(GUIDANCE_Q).citations  # connected and warm
    live.signal(signal.SIGSTOP)
    with pytest.raises(IndexUnavailableError, match=r"no answer in time; 2 attempts") as exc:
        _guarded(advisor.ask, GUIDANCE_Q)
    assert live.url in str(exc.value) and "ADVISOR_CHROMA_URL" in str(exc.value)
    computed = _guarded(advisor.ask, CALC_Q)  # the calculators need no index
    assert computed.verdict and "GB" in computed.short_answer
    assert not computed.citations
    assert any(w.startswith("Guidance left out: Could not") for w in computed.warnings)
    live.signal(signal.SIGCONT)
    again = _guarded(advisor.ask, GUIDANCE_Q)
    assert again.citations and "InfiniBand" in again.text


def test_server_killed_mid_query_then_restarted(live, tmp_path):
    """A request is on its way (the stopped server holds it unread) when the server is
    SIGKILLed: the typed error, not a hang or a traceback. Restarted on the same folder and
    port, the same Advisor answers again from the intact index."""
    advisor = Advisor.from_settings(_settings(live.url, tmp_path, chroma_timeout_s=30.0))
    assert advisor.ask(GUIDANCE_Q).citations
    chunks = advisor.kb.store.count()
    live.signal(signal.SIGSTOP)
    pending = _background(advisor.ask, GUIDANCE_Q)
    deadline = time.monotonic() + HANG_GUARD_S
    while not live.request_waiting():
        assert time.monotonic() < deadline and not pending.done()
        time.sleep(0.05)
    live.kill()
    with pytest.raises(IndexUnavailableError) as exc:
        pending.result(timeout=HANG_GUARD_S)
    assert "dropped" in str(exc.value) or "refused" in str(exc.value)
    live.start()
    assert advisor.kb.store.count() == chunks > 300
    again = _guarded(advisor.ask, GUIDANCE_Q)
    assert again.citations and "InfiniBand" in again.text


def test_cli_ask_against_a_stopped_server_does_not_hang(live, tmp_path):
    live.signal(signal.SIGSTOP)
    result = _cli(
        "ask",
        GUIDANCE_Q,
        ADVISOR_CHROMA_URL=live.url,
        ADVISOR_DATA_DIR=str(tmp_path),
        ADVISOR_CHROMA_TIMEOUT_S="1",
        ADVISOR_CHROMA_RETRIES="1",
    )
    assert "no answer in time; 2 attempts" in _one_error_line(result)


def test_settings_bound_the_wait():
    """Validation: the timeout and retries have bounds (no 0 s timeout, no endless retry)."""
    with pytest.raises(ValueError):
        Settings(chroma_timeout_s=0)
    with pytest.raises(ValueError):
        Settings(chroma_retries=-1)
    with pytest.raises(ValueError):
        Settings(chroma_retries=11)
