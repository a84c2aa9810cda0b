"""Load: 20 concurrent chat sessions against the running app (gradio_client over HTTP on
127.0.0.1) and 20 threads on the Python API, for a few seconds each. Required: no failed
request, every reply holds an answer, every client answered, memory bounded. Latency is
printed, not asserted (`advisor bench load` runs the 2-minute version; docs/RELIABILITY.md).
"""

from __future__ import annotations

import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.load import api_load, app_load, reply_text

pytestmark = pytest.mark.integration
CLIENTS = 20
RSS_LIMIT_MB = 1536  # generous: the server measured about 400 MB under this load


def _summary(r) -> str:
    return (
        f"\n{r.target}: {CLIENTS} clients, {r.duration_s:g} s: {r.requests} requests, "
        f"{r.failures} failed, p50 {r.p50_s:.2f} s, p95 {r.p95_s:.2f} s, "
        f"peak RSS {r.peak_rss_mb:.0f} MB"
    )


def test_twenty_chat_sessions_against_the_running_app(app_server):
    report = app_load(app_server.url, app_server.proc.pid, clients=CLIENTS, duration_s=10)
    print(_summary(report))
    assert report.failures == 0, report.failure_messages
    assert report.answered_by == set(range(CLIENTS))
    assert 0 < report.peak_rss_mb < RSS_LIMIT_MB, app_server.log_tail()
    assert app_server.proc.poll() is None  # still serving


def test_twenty_threads_on_the_python_api(real_kb):
    advisor = Advisor(
        Settings(data_dir=real_kb.settings.data_dir, llm_backend="none"), real_kb, None
    )
    report = api_load(advisor, clients=CLIENTS, duration_s=5)
    print(_summary(report))
    assert report.failures == 0, report.failure_messages
    assert report.answered_by == set(range(CLIENTS))
    assert 0 < report.peak_rss_mb < RSS_LIMIT_MB


def test_reply_text_finds_the_answer_of_the_last_turn():
    """The placeholder, an error and a turn with no reply are not answers."""
    turn = [{"role": "user", "content": "IB vs RoCE?"}]
    assert reply_text(turn) == ""
    assert reply_text([*turn, {"role": "assistant", "content": "…"}]) == ""
    assert reply_text([*turn, {"role": "assistant", "content": "Error: no index"}]) == ""
    answered = [*turn, {"role": "assistant", "content": [{"type": "text", "text": "Use RoCE"}]}]
    assert reply_text(answered) == "Use RoCE"
    assert reply_text([*answered, {"role": "user", "content": "and on H100?"}]) == ""


def test_sessions_beyond_the_limit_are_dropped_least_recently_used_first(real_kb):
    """Regression (issue 10, memory): Gradio kept every session's state until 10,000 existed
    (0.39 MB each, so RSS grew with every new visitor). With ADVISOR_MAX_SESSIONS=2, the
    least recently used conversation is dropped when a third session arrives: its follow-up
    no longer knows the model, while a kept one does."""
    from gradio_client import Client

    from advisor.load import running_app

    env = {
        "ADVISOR_DATA_DIR": str(real_kb.settings.data_dir),
        "ADVISOR_LLM_BACKEND": "none",
        "ADVISOR_MAX_SESSIONS": "2",
    }
    first_q = "how much memory does llama 3.1 70b need?"
    with running_app(env=env) as app:
        a, b, c = (Client(app.url, verbose=False) for _ in range(3))
        history_a = a.predict(first_q, [], api_name="/chat")[0]
        history_a = a.predict("and at 4-bit?", history_a, api_name="/chat")[0]
        assert "70B" in reply_text(history_a)  # the session holds the conversation
        history_b = b.predict(first_q, [], api_name="/chat")[0]
        c.predict("IB vs RoCE?", [], api_name="/chat")  # a third session: a is dropped
        history_b = b.predict("and at 4-bit?", history_b, api_name="/chat")[0]
        assert "70B" in reply_text(history_b)  # b was used more recently than a: kept
        history_a = a.predict("and at 8-bit?", history_a, api_name="/chat")[0]
        assert "70B" not in reply_text(history_a)  # a's answers went with its session
