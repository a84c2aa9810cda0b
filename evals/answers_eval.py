"""End-to-end answer quality on ``evals/answers.yaml``, with no LLM judge.

Metrics: key-fact coverage (``must_include`` groups found), citation recall (a ``must_cite``
guide cited), citation precision (cited sentences supported by their passage, judged by the
verifier), unsupported-number rate (numbers in the guidance that are in neither a tool result,
the question nor a cited passage), numeric accuracy (expected tool values), decline accuracy,
injection resistance and latency per stage. A naive-RAG baseline (same model, top passages
stuffed into the prompt, no tools, no verification) is scored the same way where it applies.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from advisor.evals.tools_eval import numeric_value
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.errors import AdvisorError
from advisor.verify import Verifier, citations_in, number_supported, numbers_in, strip_citations

Kind = Literal["answer", "decline", "injection", "clarify", "followup"]
# A question on a person's own hardware is now answered by run_on_hardware, which reports the
# same weights and KV-cache quantities under the same keys as inference_memory.
SUCCESSOR_TOOLS: dict[str, tuple[str, ...]] = {"inference_memory": ("run_on_hardware",)}


class NumberCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str
    value: str
    expected: float
    rel_tol: float = 0.02


class AnswerCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Kind = "answer"
    question: str
    history: list[str] = Field(default_factory=list)
    must_include: list[list[str]] = Field(default_factory=list)
    must_cite: list[str] = Field(default_factory=list)
    numbers: list[NumberCheck] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)
    topic: str | None = None


class AnswerSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int
    cases: list[AnswerCase]


def load_answer_set(path: Path | None = None) -> AnswerSet:
    p = path or Path(str(resources.files("advisor.evals").joinpath("answers.yaml")))
    try:
        return AnswerSet.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AdvisorError(f"{p}: not a valid answers eval set: {exc}") from exc


@dataclass
class CaseResult:
    id: str
    kind: str
    system: str
    facts_found: int
    facts_total: int
    cited_ok: bool | None
    sentences: int
    sentences_supported: int
    numbers_in_text: int
    numbers_unsupported: list[float]
    numeric_ok: int
    numeric_total: int
    declined: bool
    injection_ok: bool | None
    latency_s: float
    stages: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _has(text: str, group: list[str]) -> bool:
    low = text.lower()
    return any(alt.lower() in low for alt in group)


def _missing(text: str, groups: list[list[str]]) -> list[str]:
    return [" | ".join(g) for g in groups if not _has(text, g)]


def _injection_ok(text: str, case: AnswerCase) -> bool | None:
    if not case.must_not_include:
        return None
    low = text.lower()
    return not any(s.lower() in low for s in case.must_not_include)


def score_answer(
    case: AnswerCase, answer: Any, verifier: Verifier, latency: float, system: str
) -> CaseResult:
    text = answer.text
    found = [g for g in case.must_include if _has(text, g)]
    missing = _missing(text, case.must_include)
    cited = {c.doc_id for c in answer.citations}
    cited_ok = bool(cited & set(case.must_cite)) if case.must_cite else None
    passages = {c.n: c.text for c in answer.citations}
    allowed = numbers_in(case.question) + [n for q in case.history for n in numbers_in(q)]
    for call in answer.tool_calls:
        if call.markdown:
            allowed += numbers_in(call.markdown)
    supported = 0
    unsupported_numbers: list[float] = []
    n_numbers = 0
    for sentence in answer.guidance:
        refs = [n for n in citations_in(sentence) if n in passages]
        claim = strip_citations(sentence)
        ok = bool(refs) and all(
            verifier.supported(*verifier.support(claim, passages[n])[:2]) for n in refs
        )
        supported += ok
        sentence_allowed = allowed + [x for n in refs for x in numbers_in(passages[n])]
        for value in numbers_in(claim):
            n_numbers += 1
            if not number_supported(value, sentence_allowed):
                unsupported_numbers.append(value)
    numeric_ok = 0
    for check in case.numbers:
        tools = {check.tool, *SUCCESSOR_TOOLS.get(check.tool, ())}
        got = next(
            (
                v
                for c in answer.tool_calls
                if c.tool in tools
                for v in [numeric_value((c.result or {}).get("values", {}), check.value)]
                if v is not None
            ),
            None,
        )
        numeric_ok += got is not None and math.isclose(got, check.expected, rel_tol=check.rel_tol)
    low = text.lower()
    injection_ok = _injection_ok(text, case)
    return CaseResult(
        case.id,
        case.kind,
        system,
        len(found),
        len(case.must_include),
        cited_ok,
        len(answer.guidance),
        supported,
        n_numbers,
        unsupported_numbers,
        numeric_ok,
        len(case.numbers),
        declined=not answer.covered and "does not cover" in low,
        injection_ok=injection_ok,
        latency_s=latency,
        stages=dict(answer.timings),
        missing=missing,
    )


def score_text(
    case: AnswerCase, text: str, passages_text: str, latency: float, system: str
) -> CaseResult:
    """Score a free-text answer (the naive-RAG baseline): facts, numbers, declines, injection."""
    found = [g for g in case.must_include if _has(text, g)]
    allowed = numbers_in(case.question) + numbers_in(passages_text)
    nums = numbers_in(strip_citations(text))
    unsupported = [v for v in nums if not number_supported(v, allowed)]
    numeric_ok = sum(
        1
        for check in case.numbers
        if any(math.isclose(v, check.expected, rel_tol=max(check.rel_tol, 0.02)) for v in nums)
    )
    low = text.lower()
    declined = any(
        p in low
        for p in ("does not cover", "not covered", "cannot answer", "i don't know", "i do not know")
    )
    injection_ok = _injection_ok(text, case)
    return CaseResult(
        case.id,
        case.kind,
        system,
        len(found),
        len(case.must_include),
        None,
        0,
        0,
        len(nums),
        unsupported,
        numeric_ok,
        len(case.numbers),
        declined,
        injection_ok,
        latency,
        missing=_missing(text, case.must_include),
    )


@dataclass
class AnswersSummary:
    system: str
    cases: int
    key_fact_coverage: float
    citation_recall: float | None
    citation_precision: float | None
    unsupported_number_rate: float
    numeric_accuracy: float | None
    decline_accuracy: float
    injection_resistance: float | None
    latency_p50_s: float
    latency_p95_s: float
    stage_p50_s: dict[str, float]
    stage_p95_s: dict[str, float] = field(default_factory=dict)


def summarize(system: str, results: list[CaseResult]) -> AnswersSummary:
    total_facts = sum(r.facts_total for r in results if r.kind not in ("decline", "injection"))
    facts_found = sum(r.facts_found for r in results if r.kind not in ("decline", "injection"))
    cites = [r.cited_ok for r in results if r.cited_ok is not None]
    sentences = sum(r.sentences for r in results)
    supported = sum(r.sentences_supported for r in results)
    numbers = sum(r.numbers_in_text for r in results)
    unsupported = sum(len(r.numbers_unsupported) for r in results)
    num_total = sum(r.numeric_total for r in results)
    num_ok = sum(r.numeric_ok for r in results)
    judged = [r for r in results if r.kind != "injection"]  # declining an injection is fine
    decline_right = sum(1 for r in judged if r.declined == (r.kind == "decline"))
    inj = [r.injection_ok for r in results if r.injection_ok is not None]
    lat = sorted(r.latency_s for r in results)
    stages: dict[str, list[float]] = {}
    for r in results:
        for k, v in r.stages.items():
            stages.setdefault(k, []).append(v)
    return AnswersSummary(
        system=system,
        cases=len(results),
        key_fact_coverage=facts_found / total_facts if total_facts else 1.0,
        citation_recall=sum(cites) / len(cites) if cites else None,
        citation_precision=supported / sentences if sentences else None,
        unsupported_number_rate=unsupported / numbers if numbers else 0.0,
        numeric_accuracy=num_ok / num_total if num_total else None,
        decline_accuracy=decline_right / len(judged) if judged else 0.0,
        injection_resistance=sum(inj) / len(inj) if inj else None,
        latency_p50_s=statistics.median(lat) if lat else 0.0,
        latency_p95_s=lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else 0.0,
        stage_p95_s={k: sorted(v)[min(len(v) - 1, int(0.95 * len(v)))] for k, v in stages.items()},
        stage_p50_s={k: statistics.median(v) for k, v in stages.items()},
    )
