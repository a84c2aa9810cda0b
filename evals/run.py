"""``advisor eval all|tools|answers``: run the eval sets, compare systems, write reports.

Systems compared in one run: the advisor with each requested backend (``none`` = extractive,
``local`` = embedded SmolLM2, ``openai`` = a configured server) and, for every backend with a
model, a naive-RAG baseline with the same model (top passages stuffed, no tools, no
verification). Writes ``report.md``, ``report.json`` and ``scores.png``; returns whether every
threshold in ``evals/thresholds.yaml`` was met.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from advisor.evals.answers_eval import (
    AnswerSet,
    AnswersSummary,
    CaseResult,
    load_answer_set,
    score_answer,
    score_text,
    summarize,
)
from advisor.evals.real_eval import (
    RealResult,
    RealSet,
    RealSummary,
    load_real_set,
    real_lines,
    score_real,
    summarize_real,
)
from advisor.evals.tools_eval import ToolsReport, load_tool_set, run_tools_eval

from advisor.config import Settings
from advisor.core import Advisor
from advisor.kb import KnowledgeBase
from advisor.llm import LLMUnavailable, make_llm

Progress = Callable[[str, int, int], None]
NAIVE_PROMPT = (
    "Answer the question using the passages below. Cite passages like [1].\n\n"
    "{passages}\n\nQuestion: {question}\nAnswer:"
)


def load_thresholds() -> dict[str, float]:
    path = Path(str(resources.files("advisor.evals").joinpath("thresholds.yaml")))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in data["thresholds"].items()}


def _answer_cases(
    advisor: Advisor, data: AnswerSet, system: str, progress: Progress | None
) -> list[CaseResult]:
    advisor.ask("warm up the models before timing")
    results = []
    for n, case in enumerate(data.cases, start=1):
        # Earlier user turns as plain questions: the router replays them for the spec.
        history: list[Any] = list(case.history)
        start = time.perf_counter()
        answer = advisor.ask(case.question, history)
        results.append(
            score_answer(case, answer, advisor.verifier, time.perf_counter() - start, system)
        )
        if progress:
            progress(system, n, len(data.cases))
    return results


def _naive_cases(
    advisor: Advisor, data: AnswerSet, system: str, progress: Progress | None
) -> list[CaseResult]:
    assert advisor.llm is not None
    results = []
    for n, case in enumerate(data.cases, start=1):
        start = time.perf_counter()
        passages = advisor.kb.retriever.search(case.question, 5).passages
        block = "\n".join(
            f"[{i}] {p.text.split(chr(10), 1)[-1][:500]}" for i, p in enumerate(passages, start=1)
        )
        prompt = NAIVE_PROMPT.format(passages=block, question=case.question)
        try:
            text = "".join(
                advisor.llm.stream(
                    [{"role": "user", "content": prompt}], advisor.settings.llm_max_tokens
                )
            )
        except LLMUnavailable as exc:
            text = f"(model unavailable: {exc})"
        results.append(score_text(case, text, block, time.perf_counter() - start, system))
        if progress:
            progress(system, n, len(data.cases))
    return results


def run_answers(
    backends: list[str],
    settings: Settings,
    kb: KnowledgeBase,
    data: AnswerSet,
    progress: Progress | None = None,
) -> tuple[list[AnswersSummary], list[CaseResult]]:
    summaries, details = [], []
    for backend in backends:
        s = settings.model_copy(update={"llm_backend": backend})
        advisor = Advisor(s, kb, make_llm(s))
        results = _answer_cases(advisor, data, f"advisor ({backend})", progress)
        summaries.append(summarize(f"advisor ({backend})", results))
        details += results
        if advisor.llm is not None:
            naive = _naive_cases(advisor, data, f"naive RAG ({backend})", progress)
            summaries.append(summarize(f"naive RAG ({backend})", naive))
            details += naive
    return summaries, details


def run_real(
    backends: list[str],
    settings: Settings,
    kb: KnowledgeBase,
    data: RealSet,
    progress: Progress | None = None,
) -> tuple[list[RealSummary], list[RealResult]]:
    """The real-question set through Advisor.ask, for each backend; dev and held-out apart."""
    summaries, details = [], []
    for backend in backends:
        s = settings.model_copy(update={"llm_backend": backend})
        advisor = Advisor(s, kb, make_llm(s))
        # with ADVISOR_LLM_UNDERSTANDING=true (openai backend) the model's reading fills the
        # slots the rules left empty: the second route, reported under its own name
        route = ", rules + model reading" if s.llm_understanding and backend == "openai" else ""
        system = f"advisor ({backend}{route})"
        results = []
        for n, case in enumerate(data.cases, start=1):
            start = time.perf_counter()
            answer = advisor.ask(case.question)
            results.append(
                score_real(case, answer, advisor.catalog, time.perf_counter() - start, system)
            )
            if progress:
                progress(f"real questions ({backend})", n, len(data.cases))
        for split in ("dev", "heldout"):
            summaries.append(summarize_real(system, split, results))
        details += results
    return summaries, details


def _fmt(value: float | None, pct: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if pct else f"{value:.2f}"


def answers_table(summaries: list[AnswersSummary]) -> list[str]:
    lines = [
        "| system | key facts | cite recall | cite precision | unsupported numbers "
        "| numeric acc. | decline acc. | injection | p50 s | p95 s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.system} | {_fmt(s.key_fact_coverage)} | {_fmt(s.citation_recall)} | "
            f"{_fmt(s.citation_precision)} | {_fmt(s.unsupported_number_rate)} | "
            f"{_fmt(s.numeric_accuracy)} | {_fmt(s.decline_accuracy)} | "
            f"{_fmt(s.injection_resistance)} | {s.latency_p50_s:.2f} | {s.latency_p95_s:.2f} |"
        )
    return lines


def ratio_lines(summaries: list[AnswersSummary]) -> list[str]:
    out = []
    by = {s.system: s for s in summaries}
    for s in summaries:
        if not s.system.startswith("naive"):
            continue
        backend = s.system[s.system.index("(") + 1 : -1]
        adv = by.get(f"advisor ({backend})")
        if adv is None:
            continue
        for label, a, b in (
            ("key-fact coverage", adv.key_fact_coverage, s.key_fact_coverage),
            ("numeric accuracy", adv.numeric_accuracy, s.numeric_accuracy),
            ("decline accuracy", adv.decline_accuracy, s.decline_accuracy),
        ):
            if a is not None and b:
                out.append(
                    f"- {label}: advisor {a:.1%} vs naive RAG {b:.1%} "
                    f"({a / b:.1f}x) with the {backend} model"
                )
        out.append(
            f"- unsupported-number rate: advisor {adv.unsupported_number_rate:.1%} vs "
            f"naive RAG {s.unsupported_number_rate:.1%} ({backend})"
        )
    return out


def tools_lines(report: ToolsReport, data: Any) -> list[str]:
    by_id = {c.id: c for c in data.cases}
    lines = [
        f"Direct calls: {report.direct_accuracy:.1%} of {len(report.outcomes)} cases "
        "within tolerance."
    ]
    if report.advisor_accuracy is not None:
        routed = sum(1 for o in report.outcomes if o.via_ok is not None)
        lines.append(
            f"Through `Advisor.ask`: {report.advisor_accuracy:.1%} of {routed} routed cases."
        )
    fails = [o for o in report.outcomes if not o.direct_ok or o.via_ok is False]
    if fails:
        lines += ["", "Failures:"]
        for o in fails:
            c = by_id[o.id]
            lines.append(
                f'- {o.id} ({o.tool}) "{c.question}": expected {o.expected:.4g}, '
                f"direct {o.direct if o.direct is None else f'{o.direct:.4g}'}, "
                f"via advisor {o.via_advisor if o.via_advisor is None else f'{o.via_advisor:.4g}'}"  # noqa: E501
                + (f" ({o.error})" if o.error else "")
            )
    return lines


def plot_scores(scores: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.35 * len(scores) + 1))
    names = list(scores)[::-1]
    ax.barh(names, [scores[n] for n in names], color="#4C78A8")
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (higher is better)")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# The thresholded metrics each `advisor eval` command measures. Every one of them must be
# present after the run: a metric that went missing is a miss, not a pass.
_ANSWERS = (
    "key_fact_coverage",
    "citation_precision",
    "unsupported_number_rate_max",
    "decline_accuracy",
    "injection_resistance",
)
MEASURED: dict[str, frozenset[str]] = {
    "tools": frozenset({"numeric_accuracy_tools"}),
    "real": frozenset({"real_questions_heldout"}),
    "answers": frozenset({*_ANSWERS, "real_questions_heldout"}),
    "all": frozenset(
        {"numeric_accuracy_tools", "retrieval_hit_at_5", "retrieval_mrr", *_ANSWERS}
        | {"real_questions_heldout"}
    ),
}


def check_thresholds(metrics: dict[str, float | None], thresholds: dict[str, float]) -> list[str]:
    """The thresholds missed; a metric absent from ``metrics`` or None counts as missed.

    Pass only the thresholds the run measures (``MEASURED[which]``).
    """
    missed = []
    for name, limit in thresholds.items():
        value = metrics.get(name)
        if value is None:
            missed.append(f"{name}: not measured")
        elif name.endswith("_max"):
            if value > limit:
                missed.append(f"{name}: {value:.3f} > {limit}")
        elif value < limit:
            missed.append(f"{name}: {value:.3f} < {limit}")
    return missed


def run_evals(
    which: str,
    backends: list[str],
    out_dir: Path,
    settings: Settings,
    progress: Progress | None = None,
) -> tuple[str, bool]:
    """Run the chosen evals; write the reports; return (markdown, all thresholds met)."""
    from advisor.evals.citations import load_citation_set, run_citation_eval
    from advisor.evals.retrieval import load_set, run_retrieval_eval

    from advisor.retrieve import COVERAGE_THRESHOLD

    out_dir.mkdir(parents=True, exist_ok=True)
    kb = KnowledgeBase.from_settings(settings)
    kb.build()  # incremental: changed guides are re-indexed, unchanged ones skipped
    tool_advisor = Advisor(settings.model_copy(update={"llm_backend": "none"}), kb, None)
    md = ["# Evaluation report", "", f"Backends: {', '.join(backends)}.", ""]
    data_json: dict[str, Any] = {}
    metrics: dict[str, float | None] = {}
    scores: dict[str, float] = {}
    if which in ("all", "tools"):
        tdata = load_tool_set()
        trep = run_tools_eval(
            tdata,
            tool_advisor.ask,
            progress=lambda d, t: progress("tools", d, t) if progress else None,
        )
        md += ["## Tools (published figures)", "", *tools_lines(trep, tdata), ""]
        data_json["tools"] = [asdict(o) for o in trep.outcomes]
        metrics["numeric_accuracy_tools"] = trep.direct_accuracy
        metrics["numeric_accuracy_tools_via_advisor"] = trep.advisor_accuracy
        scores["tools: direct"] = trep.direct_accuracy
        if trep.advisor_accuracy is not None:
            scores["tools: via advisor"] = trep.advisor_accuracy
    if which == "all":
        rrep = run_retrieval_eval(kb.retriever.search, load_set(), threshold=COVERAGE_THRESHOLD)
        md += [rrep.to_markdown().replace("# Retrieval evaluation", "## Retrieval"), ""]
        data_json["retrieval"] = json.loads(rrep.to_json())
        hyb = next(s for s in rrep.scores if s.mode == "hybrid")
        metrics["retrieval_hit_at_5"] = hyb.hit_at_5
        metrics["retrieval_mrr"] = hyb.mrr
        for s in rrep.scores:
            scores[f"retrieval {s.mode}: MRR"] = s.mrr
        crep = run_citation_eval(tool_advisor.verifier, load_citation_set())
        md += [
            crep.to_markdown().replace("# Citation-support evaluation", "## Citation verifier"),
            "",
        ]
        data_json["citations"] = json.loads(crep.to_json())
        scores["verifier precision"] = crep.precision
        scores["verifier recall"] = crep.recall
    if which in ("all", "answers"):
        adata = load_answer_set()
        summaries, details = run_answers(backends, settings, kb, adata, progress)
        md += [
            "## Answers",
            "",
            f"{len(adata.cases)} cases (`evals/answers.yaml`).",
            "",
            *answers_table(summaries),
            "",
            "Baselines:",
            *ratio_lines(summaries),
            "",
        ]
        md += [
            "Latency per stage, p50/p95 s: "
            + "; ".join(
                f"{s.system}: "
                + ", ".join(
                    f"{k} {v:.2f}/{s.stage_p95_s.get(k, v):.2f}" for k, v in s.stage_p50_s.items()
                )
                for s in summaries
                if s.stage_p50_s
            ),
            "",
        ]
        first = summaries[0]
        metrics.update(
            key_fact_coverage=first.key_fact_coverage,
            citation_precision=first.citation_precision,
            unsupported_number_rate_max=first.unsupported_number_rate,
            decline_accuracy=first.decline_accuracy,
            injection_resistance=first.injection_resistance,
        )
        for s in summaries:
            scores[f"{s.system}: key facts"] = s.key_fact_coverage
            scores[f"{s.system}: decline"] = s.decline_accuracy
            if s.numeric_accuracy is not None:
                scores[f"{s.system}: numbers"] = s.numeric_accuracy
        md += ["### Failures", ""]
        by_id = {c.id: c for c in adata.cases}
        for r in details:
            problems = []
            if r.missing:
                problems.append(f"missing {r.missing}")
            if r.cited_ok is False:
                problems.append(f"did not cite {by_id[r.id].must_cite}")
            if r.numbers_unsupported:
                problems.append(f"unsupported numbers {r.numbers_unsupported}")
            if r.numeric_ok < r.numeric_total:
                problems.append("wrong or missing tool value")
            if r.kind != "injection" and r.declined != (r.kind == "decline"):
                problems.append("declined" if r.declined else "not declined")
            if r.injection_ok is False:
                problems.append("injection text present")
            if problems:
                md.append(f'- [{r.system}] {r.id} "{by_id[r.id].question}": ' + "; ".join(problems))
        data_json["answers"] = {
            "summaries": [asdict(s) for s in summaries],
            "cases": [asdict(r) for r in details],
        }
    if which in ("all", "answers", "real"):
        rdata = load_real_set()
        rsum, rdetails = run_real(backends, settings, kb, rdata, progress)
        splits = Counter(c.split for c in rdata.cases)
        md += [
            "## Real questions",
            "",
            f"{len(rdata.cases)} questions people asked in public (`evals/real_questions.yaml`), "
            f"each with a confirming answer: {splits['dev']} dev, {splits['heldout']} held out "
            "(never tuned on).",
            "",
            *real_lines(rsum, rdetails, rdata),
            "",
        ]
        for rs in rsum:
            scores[f"real {rs.split}: {rs.system}"] = rs.pass_rate
        held = [rs for rs in rsum if rs.split == "heldout"]
        if held:
            metrics["real_questions_heldout"] = min(rs.pass_rate for rs in held)
            metrics["real_questions_dev"] = min(rs.pass_rate for rs in rsum if rs.split == "dev")
        data_json["real_questions"] = {
            "summaries": [asdict(rs) for rs in rsum],
            "cases": [asdict(r) for r in rdetails],
        }
    thresholds = load_thresholds()
    missed = check_thresholds(
        metrics, {k: v for k, v in thresholds.items() if k in MEASURED[which]}
    )
    md[4:4] = [
        "## Thresholds",
        "",
        *(
            f"- {name} >= {v}" if not name.endswith("_max") else f"- {name} <= {v}"
            for name, v in thresholds.items()
        ),
        "",
        "Missed: " + ("; ".join(missed) if missed else "none"),
        "",
    ]
    text = "\n".join(md) + "\n"
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    (out_dir / "report.json").write_text(
        json.dumps({"metrics": metrics, "missed": missed, **data_json}, indent=2, default=str),
        encoding="utf-8",
    )
    if scores:
        plot_scores(scores, out_dir / "scores.png")
    return text, not missed
