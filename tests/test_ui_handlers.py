"""UI handlers, called directly (no browser), over the public API with a real index."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from advisor.ui import handlers as h
from advisor.ui.app import create_app, parse_auth

from advisor.config import Settings
from advisor.core import Advisor


@pytest.fixture(scope="module")
def advisor(real_kb):
    return Advisor(Settings(data_dir=real_kb.settings.data_dir, llm_backend="none"), real_kb, None)


def _last(gen):
    items = list(gen)
    return items[-1] if items else None


def test_chat_turn_shows_tools_answer_sources_and_plot(advisor):
    history, answers, fig, sources, box, verdict = _last(
        h.respond(advisor, "How many L4s to serve Llama 3 8B at 20 requests/s?", [], [])
    )
    assert box == "" and len(answers) == 1
    tools = [m for m in history if m.get("metadata", {}).get("title", "").startswith("Calculator")]
    assert {m["metadata"]["title"] for m in tools} >= {"Calculator: serving_estimate"}
    assert any("| Replicas for the target |" in m["content"] for m in tools)
    assert history[0] == {
        "role": "user",
        "content": "How many L4s to serve Llama 3 8B at 20 requests/s?",
    }
    assert any(m.get("metadata", {}).get("title", "").startswith("Sources") for m in history)
    assert fig is not None and "[1]" in sources
    # the answer comes right after the question and opens with its verdict; the full tables
    # follow as collapsed calculator messages, not inside the answer
    answer_msg = history[1]
    assert "metadata" not in answer_msg and answer_msg["content"].startswith("**")
    assert "### Details" not in answer_msg["content"]
    assert verdict.startswith("**") and verdict.split("**")[1] in answer_msg["content"]


def test_fit_question_verdict_panel(advisor):
    *_, verdict = _last(
        h.respond(
            advisor,
            "I have two RTX 3090s and 64 GB of RAM; can I run Llama 3.1 70B at Q4_K_M?",
            [],
            [],
        )
    )
    assert verdict.startswith("**Yes:") and "RTX 3090" in verdict
    assert "tokens/s" in verdict


def test_streaming_yields_partial_text_first(advisor):
    steps = list(h.respond(advisor, "IB vs RoCE?", [], []))
    assert len(steps) > 2
    assert steps[0][0][-1]["role"] == "assistant" and steps[0][0][-1]["content"].startswith("**")


def test_follow_up_uses_previous_answers(advisor):
    _, answers, *_ = _last(
        h.respond(advisor, "how much does it cost to serve llama 3 70b on aws", [], [])
    )
    _, answers, *_ = _last(h.respond(advisor, "what about on GCP?", [], answers))
    assert answers[-1].spec.model == "llama-3-70b" and answers[-1].spec.provider == "gcp"


def test_empty_message_changes_nothing(advisor):
    history = [{"role": "user", "content": "hi"}]
    out = _last(h.respond(advisor, "   ", history, []))
    assert out[0] == history


def test_huge_paste_is_truncated_with_a_warning(advisor):
    history, answers, *_ = _last(h.respond(advisor, "GPU memory " * 6000, [], []))
    assert len(history[0]["content"]) == h.MAX_MESSAGE_CHARS
    assert answers


def test_export_conversation(advisor):
    _, answers, *_ = _last(h.respond(advisor, "IB vs RoCE?", [], []))
    text = Path(h.export_conversation(answers)).read_text()
    assert "## 1. IB vs RoCE?" in text and "### Sources" in text
    with pytest.raises(gr.Error):
        h.export_conversation([])


def test_calculators_and_reports():
    md, fig, report = h.calc_inference_memory("llama 3.1 70b", "bf16", 8192, "h100", None)
    assert "Minimum" in md and fig is not None and Path(report).read_text().startswith("# ")
    md, fig, _ = h.calc_training("llama 3.1 8b", 1e12, "h100", 14, "lora", 1)
    assert "FLOPs" in md and fig is not None
    md, _, _ = h.calc_serving("llama 3.1 8b", "l4", "fp8", 20, 1000, 250)
    assert "Replicas" in md
    md, _, _ = h.calc_cost_per_m("aws", "p5.48xlarge", "llama 3.1 70b", None, 0.6)
    assert "per million" in md
    md, fig, _ = h.calc_tco("hgx h100", 2, 0.7, 4, "us", "aws", "p5.48xlarge")
    assert "Break-even" in md and fig is not None


def test_unknown_names_show_did_you_mean():
    with pytest.raises(gr.Error, match="Did you mean"):
        h.calc_inference_memory("llama 3.1 70b", "bf16", 8192, "H10", None)
    with pytest.raises(gr.Error, match="Unknown model"):
        h.calc_serving("gpt-9 ultra", "h100", "bf16", 1, 100, 100)


def test_catalog_tables_filter_and_flag_stale_prices():
    acc = h.catalog_table("accelerators", "h100")
    assert len(acc) >= 3 and all("H100" in n for n in acc["name"])
    inst = h.catalog_table("instances")
    assert {"as_of", "stale"} <= set(inst.columns) and (inst["stale"] == "stale").any()
    assert len(h.catalog_table("models", "moe")) >= 0


def test_settings_panel(advisor):
    md = h.settings_markdown(advisor)
    assert "LLM backend" in md and "guide chunks" in md and str(advisor.settings.data_dir) in md


def test_app_builds_and_auth_parsing(advisor):
    app = create_app(advisor)
    assert isinstance(app, gr.Blocks)
    assert parse_auth("ann:secret") == ("ann", "secret") and parse_auth(None) is None
    from advisor.errors import AdvisorError

    with pytest.raises(AdvisorError):
        parse_auth("no-colon")


def test_backend_down_shows_a_visible_warning(real_kb):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from fakes import BrokenLLM

    advisor = Advisor(
        Settings(data_dir=real_kb.settings.data_dir, llm_backend="none"), real_kb, BrokenLLM()
    )
    history, answers, *_ = _last(h.respond(advisor, "what is a TPU pod?", [], []))
    answer_msg = next(
        m
        for m in history
        if m["role"] == "assistant" and "metadata" not in m and m["content"].startswith("**")
    )
    assert "Warning: Language model unavailable" in answer_msg["content"]
    assert answers[0].guidance  # extractive guidance still shown


def test_a_conversation_keeps_its_latest_answers_only(advisor):
    """Regression (issue 10, memory): the session's answers were a list without end; it keeps
    the last MAX_ANSWERS_KEPT, and the next turn still sees the ones kept."""
    old = advisor.ask("how much memory does llama 3.1 70b need?")
    full = [old] * h.MAX_ANSWERS_KEPT
    _, answers, *_ = _last(h.respond(advisor, "and at 4-bit?", [], full))
    assert len(answers) == h.MAX_ANSWERS_KEPT
    assert answers[-1].question == "and at 4-bit?" and answers[0] is old
    assert "70B" in answers[-1].short_answer  # the kept answers still carry the context


def test_launch_keeps_a_bounded_number_of_sessions(advisor):
    from advisor.ui.app import launch_options

    capped = Advisor(advisor.settings.model_copy(update={"max_sessions": 7}), advisor.kb, None)
    options = launch_options(capped, host="127.0.0.1", port=7860, auth=None, share=False)
    assert options["state_session_capacity"] == 7
    assert (
        launch_options(advisor, host="127.0.0.1", port=7860, auth=None, share=False)[
            "state_session_capacity"
        ]
        == Settings().max_sessions
    )


def test_exports_are_bounded_and_the_newest_kept(monkeypatch):
    """A long-running server writes every report into one folder and keeps only the newest
    EXPORTS_KEPT: nothing grows without bound, and the file just written is never deleted."""
    from pathlib import Path

    from ui import handlers as h

    monkeypatch.setattr(h, "EXPORTS_KEPT", 5)
    paths = [Path(h._write_md("conversation", f"# {i}")) for i in range(12)]
    root = paths[-1].parent.parent
    assert all(p.parent.parent == root for p in paths)
    assert len(list(root.iterdir())) <= 5  # only the newest five folders remain
    assert all(p.read_text(encoding="utf-8") == f"# {i}" for i, p in enumerate(paths) if i >= 7)
    assert not any(p.exists() for p in paths[:7])
