"""The bench's split of the language model's time into prompt processing and generation, and
the full answers through the UI handler."""

from __future__ import annotations

from fakes import ScriptedLLM

from advisor.bench import ANSWER_QUESTIONS, bench_llm_phases, bench_ui_answers
from advisor.config import Settings
from advisor.core import Advisor


def test_prompt_and_generation_are_timed_on_the_guidance_prompts(real_kb, tmp_path):
    replies = ["InfiniBand and RoCE both carry RDMA traffic for GPUs [1]."] * len(ANSWER_QUESTIONS)
    llm = ScriptedLLM(*replies)
    advisor = Advisor(Settings(data_dir=tmp_path, llm_backend="none"), real_kb, llm)
    rows = bench_llm_phases(advisor)
    names = [r.name for r in rows]
    assert len(rows) == 2 and "prompt processing" in names[0] and "per token" in names[1]
    assert all(r.runs == len(ANSWER_QUESTIONS) and r.p50_ms >= 0 for r in rows)
    # the prompts are the guidance prompts the answers use: passages, then the question
    assert all("Passages:" in m[-1]["content"] for m in llm.prompts)


def test_without_a_model_there_is_nothing_to_time(real_kb, tmp_path):
    advisor = Advisor(Settings(data_dir=tmp_path, llm_backend="none"), real_kb, None)
    assert bench_llm_phases(advisor) == []


def test_full_answers_are_timed_through_the_ui_handler(real_kb, tmp_path):
    replies = ["InfiniBand and RoCE both carry RDMA traffic for GPUs [1]."] * len(ANSWER_QUESTIONS)
    llm = ScriptedLLM(*replies)
    advisor = Advisor(Settings(data_dir=tmp_path, llm_backend="local"), real_kb, llm)
    rows = bench_ui_answers(advisor)
    assert [r.name for r in rows] == ["full answer (local), UI handler", "first text, UI handler"]
    assert all(r.runs == len(ANSWER_QUESTIONS) for r in rows)
    # whole answers: the model wrote the guidance of every question that has passages
    assert len(llm.prompts) >= len(ANSWER_QUESTIONS) - 2


def test_cold_start_figures_say_which_caches_were_on(monkeypatch, tmp_path):
    """A cold start depends on the bytecode and parsed-catalog caches, so the bench says
    whether each was on."""
    from advisor.cli import cold_start_conditions

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", "off")
    text = cold_start_conditions()
    assert "bytecode cache off" in text and "parsed-catalog cache off" in text
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    text = cold_start_conditions()
    assert "bytecode cache on" in text and str(tmp_path / "yaml") in text
