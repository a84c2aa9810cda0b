"""Load: concurrent chat sessions against the running app, and threads on the Python API.

``advisor bench load`` and ``tests/test_load.py`` use the same pieces:

* :func:`running_app` starts ``advisor serve`` in a new process on 127.0.0.1 and waits for it;
* :func:`app_load` runs N gradio_client sessions against it for a while, each a few
  conversations of three turns (the reply fed back as history, then "Clear conversation");
* :func:`api_load` runs the same conversations from N threads on one :class:`Advisor`,
  alternating ``ask`` and ``stream``.

A request fails when it raises or its reply holds no answer text. Memory is the server
process's resident set (``/proc/PID/status``: VmRSS sampled, VmHWM the kernel's peak).
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Three-turn conversations in people's words: calculators, guidance and follow-ups.
CONVERSATIONS: tuple[tuple[str, str, str], ...] = (
    ("How many L4s to serve Llama 3 8B at 20 requests/s?", "and on H100?", "IB vs RoCE?"),
    ("how much memory does llama 3.1 70b need?", "and at 4-bit?", "what is a TPU pod?"),
    (
        "what does 3 years of 8xH100 cost bought vs rented?",
        "and at 30% utilization?",
        "can I leave Bedrock later?",
    ),
    (
        "I have two RTX 3090s and 64 GB of RAM, can I run Llama 3.1 70B at Q4_K_M?",
        "and with 32k context?",
        "what's the difference between prefill and decode?",
    ),
    (
        "train a 7B model on 2T tokens in 3 weeks, how many H100s?",
        "and on A100s?",
        "how do I keep GPUs fed with data during training?",
    ),
)
MAX_FAILURE_MESSAGES = 10


@dataclass
class LoadReport:
    """What one load run measured (latency per request, in seconds)."""

    target: str
    clients: int
    duration_s: float
    latencies_s: list[float] = field(default_factory=list)
    failures: int = 0
    failure_messages: list[str] = field(default_factory=list)
    rss_start_mb: float = 0.0  # after start-up and one warm-up request
    rss_end_mb: float = 0.0
    peak_rss_mb: float = 0.0
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (elapsed s, MB)
    answered_by: set[int] = field(default_factory=set)  # clients that got at least one answer
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def requests(self) -> int:
        return len(self.latencies_s) + self.failures

    @property
    def p50_s(self) -> float:
        return statistics.median(self.latencies_s) if self.latencies_s else 0.0

    @property
    def p95_s(self) -> float:
        s = sorted(self.latencies_s)
        return s[min(len(s) - 1, int(0.95 * len(s)))] if s else 0.0

    def rss_timeline(self, points: int = 10) -> list[tuple[float, float]]:
        """About ``points`` evenly spaced (elapsed s, RSS MB) samples, the last one included."""
        samples = self.rss_samples
        if len(samples) <= points:
            return list(samples)
        step = (len(samples) - 1) / (points - 1)
        return [samples[round(i * step)] for i in range(points)]

    @property
    def per_s(self) -> float:
        return len(self.latencies_s) / self.duration_s if self.duration_s else 0.0

    def ok(self, client: int, seconds: float) -> None:
        with self._lock:
            self.latencies_s.append(seconds)
            self.answered_by.add(client)

    def failed(self, what: str) -> None:
        with self._lock:
            self.failures += 1
            if len(self.failure_messages) < MAX_FAILURE_MESSAGES:
                self.failure_messages.append(what[:300])


# -- the server process -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """Resident set of a process in MB from /proc (VmHWM: its peak so far); 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


@dataclass
class App:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-chars:]
        return ""


@contextlib.contextmanager
def running_app(
    args: Sequence[str] = (), env: dict[str, str] | None = None, timeout_s: float = 240
) -> Iterator[App]:
    """``advisor serve --port P ARGS`` in a new process, yielded once it answers HTTP.

    Its output goes to a file, not a pipe a busy server could fill. Stopped on exit."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="advisor-serve-", suffix=".log")[1])
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "advisor.cli", "serve", "--port", str(port), *args],
            env=full_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    app = App(f"http://127.0.0.1:{port}/", port, proc, log)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(app.url, timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # it answers (a login page, say)
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start: {app.log_tail()}") from exc
                time.sleep(0.3)
        yield app
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        with contextlib.suppress(OSError):
            log.unlink()


# -- replies ------------------------------------------------------------------------------
def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(c) for c in content)
    if isinstance(content, dict):
        return str(content.get("text") or "")
    return ""


def reply_text(history: Sequence[dict[str, Any]]) -> str:
    """The answer message of the last turn: the first assistant message after the last
    user message ('' when there is none, it is still the placeholder, or it is an error)."""
    last_user = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=-1)
    for m in history[last_user + 1 :]:
        if m.get("role") == "assistant":
            text = _text(m.get("content")).strip()
            return "" if text in ("", "…") or text.startswith("Error:") else text
    return ""


# -- the runs -----------------------------------------------------------------------------
def _sample_rss(pid: int, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while not stop.wait(0.5):
        samples.append((time.monotonic() - start, rss_mb(pid)))


def _run_clients(
    report: LoadReport, session: Callable[[int, float], None], pid: int, warm: Callable[[], None]
) -> LoadReport:
    warm()
    report.rss_start_mb = rss_mb(pid)
    stop_at = time.monotonic() + report.duration_s
    stop, samples = threading.Event(), report.rss_samples
    samples.append((0.0, report.rss_start_mb))
    sampler = threading.Thread(target=_sample_rss, args=(pid, stop, samples), daemon=True)
    sampler.start()
    threads = [
        threading.Thread(target=session, args=(n, stop_at), daemon=True)
        for n in range(report.clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=report.duration_s + 600)
        if t.is_alive():
            report.failed("a session did not finish within 10 minutes of the end")
    stop.set()
    sampler.join()
    report.rss_end_mb = rss_mb(pid)
    report.peak_rss_mb = max(rss_mb(pid, "VmHWM"), *(mb for _, mb in samples), report.rss_end_mb)
    return report


def app_load(
    url: str,
    pid: int,
    clients: int = 20,
    duration_s: float = 120.0,
    auth: tuple[str, str] | None = None,
) -> LoadReport:
    """``clients`` gradio_client sessions against the app at ``url`` for ``duration_s``."""
    from gradio_client import Client

    report = LoadReport("web app (gradio_client, /chat)", clients, duration_s)

    def session(n: int, stop_at: float) -> None:
        try:
            client = Client(url, auth=auth, verbose=False)
        except Exception as exc:  # noqa: BLE001 - a refused connection is a failed request
            report.failed(f"connect: {type(exc).__name__}: {exc}")
            return
        turn = n
        while time.monotonic() < stop_at:
            history: Any = []
            for q in CONVERSATIONS[turn % len(CONVERSATIONS)]:
                if time.monotonic() >= stop_at:
                    break
                start = time.perf_counter()
                try:
                    history = client.predict(q, history, api_name="/chat")[0]
                    if reply_text(history):
                        report.ok(n, time.perf_counter() - start)
                    else:
                        report.failed(f"no answer to {q!r}")
                except Exception as exc:  # noqa: BLE001 - counted, the session goes on
                    report.failed(f"{q!r}: {type(exc).__name__}: {exc}")
            turn += 1
            with contextlib.suppress(Exception):
                client.predict(api_name="/clear")  # "Clear conversation": a new one
        with contextlib.suppress(Exception):
            client.close()

    def warm() -> None:
        Client(url, auth=auth, verbose=False).predict(CONVERSATIONS[0][0], [], api_name="/chat")

    return _run_clients(report, session, pid, warm)


def api_load(advisor: Any, clients: int = 20, duration_s: float = 120.0) -> LoadReport:
    """``clients`` threads asking one Advisor the same conversations (ask and stream)."""
    from advisor.core import Answer

    report = LoadReport("Python API (threads, Advisor.ask / stream)", clients, duration_s)

    def session(n: int, stop_at: float) -> None:
        turn = n
        while time.monotonic() < stop_at:
            answers: list[Any] = []
            for i, q in enumerate(CONVERSATIONS[turn % len(CONVERSATIONS)]):
                if time.monotonic() >= stop_at:
                    break
                start = time.perf_counter()
                try:
                    if (n + i) % 2:
                        answer = advisor.ask(q, answers)
                    else:
                        items = list(advisor.stream(q, answers))
                        answer = items[-1]
                        assert isinstance(answer, Answer), "stream did not end with an Answer"
                    if answer.text.strip():
                        report.ok(n, time.perf_counter() - start)
                        answers.append(answer)
                    else:
                        report.failed(f"empty answer to {q!r}")
                except Exception as exc:  # noqa: BLE001 - counted, the session goes on
                    report.failed(f"{q!r}: {type(exc).__name__}: {exc}")
            turn += 1

    return _run_clients(report, session, os.getpid(), lambda: advisor.ask(CONVERSATIONS[0][0]))
