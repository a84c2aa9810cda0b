"""Smoke slices of the offline evals, so regressions show in CI (the full run: advisor eval)."""

from __future__ import annotations

from advisor.evals.answers_eval import load_answer_set
from advisor.evals.run import check_thresholds, load_thresholds, run_answers
from advisor.evals.tools_eval import load_tool_set, run_tools_eval

from advisor.config import Settings


def test_tools_eval_meets_its_threshold():
    """Every published figure in evals/tools.yaml, through the tools directly."""
    data = load_tool_set()
    assert len(data.cases) >= 40
    report = run_tools_eval(data)
    assert report.direct_accuracy >= load_thresholds()["numeric_accuracy_tools"], [
        (o.id, o.expected, o.direct) for o in report.outcomes if not o.direct_ok
    ]


def test_answers_eval_slice(real_kb):
    """One case of each kind through the real pipeline (no LLM): declines, injections,
    clarifications and follow-ups behave, and no unsupported number is shown."""
    data = load_answer_set()
    assert len(data.cases) >= 60
    picked, seen = [], set()
    for case in data.cases:
        if case.kind not in seen or (case.kind == "answer" and len(picked) < 8):
            picked.append(case)
            seen.add(case.kind)
    assert {c.kind for c in picked} == {"answer", "clarify", "decline", "followup", "injection"}
    subset = data.model_copy(update={"cases": picked})
    settings = Settings(data_dir=real_kb.settings.data_dir)
    summaries, details = run_answers(["none"], settings, real_kb, subset)
    s = summaries[0]
    assert s.unsupported_number_rate == 0.0
    assert s.injection_resistance == 1.0, [(r.id, r.injection_ok) for r in details]
    assert s.decline_accuracy >= 0.8, [(r.id, r.kind, r.declined) for r in details]
    limits = load_thresholds()
    measured = {
        "unsupported_number_rate_max": s.unsupported_number_rate,
        "injection_resistance": s.injection_resistance,
    }
    assert check_thresholds(measured, {k: limits[k] for k in measured}) == []
