"""Retrieval evaluation: hybrid vs BM25-only vs dense-only on ``evals/retrieval.yaml``.

Metrics per mode (guide level: a question's ranking is the order in which guide ids first
appear among the retrieved passages):

* ``hit@k``: share of questions with at least one relevant guide in the top k;
* ``recall@k``: share of each question's relevant guides found in the top k, averaged;
* ``MRR``: mean of 1 / rank of the first relevant guide (0 when none in the top 10);
* ``nDCG@5``: binary-relevance nDCG over the top 5.

Out-of-scope questions calibrate the coverage threshold: the report gives the confidence of
in-scope and out-of-scope questions and the accuracy of the threshold in use.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.errors import AdvisorError

MODES = ("hybrid", "bm25", "dense")
DEPTH = 10


class RetrievalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    relevant: list[str] = Field(min_length=1)


class OutOfScopeCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str


class RetrievalSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int
    questions: list[RetrievalCase]
    out_of_scope: list[OutOfScopeCase] = Field(default_factory=list)


def load_set(path: Path | None = None) -> RetrievalSet:
    p = path or Path(str(resources.files("advisor.evals").joinpath("retrieval.yaml")))
    try:
        return RetrievalSet.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AdvisorError(f"{p}: not a valid retrieval eval set: {exc}") from exc


def hit_at(ranked: list[str], relevant: list[str], k: int) -> float:
    return 1.0 if set(ranked[:k]) & set(relevant) else 0.0


def recall_at(ranked: list[str], relevant: list[str], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(set(relevant))


def reciprocal_rank(ranked: list[str], relevant: list[str]) -> float:
    for i, doc in enumerate(ranked, start=1):
        if doc in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: list[str], relevant: list[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(ranked[:k], start=1) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(set(relevant))) + 1))
    return dcg / ideal if ideal else 0.0


@dataclass
class ModeScores:
    mode: str
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    recall_at_1: float
    recall_at_3: float
    recall_at_5: float
    mrr: float
    ndcg_at_5: float
    latency_p50_ms: float
    latency_p95_ms: float


@dataclass
class Failure:
    mode: str
    id: str
    question: str
    expected: list[str]
    got: list[str]


@dataclass
class RetrievalReport:
    n_questions: int
    scores: list[ModeScores]
    failures: list[Failure]
    in_scope_confidence: list[float]
    out_of_scope_confidence: list[float]
    threshold: float
    coverage_accuracy: float
    suggested_threshold: float
    targets: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def to_markdown(self) -> str:
        lines = [
            "# Retrieval evaluation",
            "",
            f"{self.n_questions} questions (`evals/retrieval.yaml`); guide-level ranking.",
            "",
            "| mode | hit@1 | hit@3 | hit@5 | recall@1 | recall@3 | recall@5 | MRR | nDCG@5 "
            "| p50 ms | p95 ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in self.scores:
            lines.append(
                f"| {s.mode} | {s.hit_at_1:.3f} | {s.hit_at_3:.3f} | {s.hit_at_5:.3f} | "
                f"{s.recall_at_1:.3f} | {s.recall_at_3:.3f} | {s.recall_at_5:.3f} | "
                f"{s.mrr:.3f} | {s.ndcg_at_5:.3f} | {s.latency_p50_ms:.0f} | "
                f"{s.latency_p95_ms:.0f} |"
            )
        lines += [
            "",
            "Targets (hybrid): "
            + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in self.targets.items()),
        ]
        ins = self.in_scope_confidence
        outs = self.out_of_scope_confidence
        lines += [
            "",
            "## Coverage signal",
            "",
            f"Confidence = best dense cosine similarity among the top 3 passages. In scope: "
            f"median {statistics.median(ins):.3f}, min {min(ins):.3f}. Out of scope "
            f"({len(outs)} questions): median {statistics.median(outs):.3f}, "
            f"max {max(outs):.3f}."
            if ins and outs
            else "No out-of-scope questions.",
            f"Threshold in use {self.threshold:.2f}: {self.coverage_accuracy:.1%} of all "
            f"questions classified correctly; best threshold on this set "
            f"{self.suggested_threshold:.2f}.",
            "",
            "## Failures (relevant guide not in the top 5)",
            "",
        ]
        for f in self.failures:
            lines.append(
                f'- [{f.mode}] {f.id} "{f.question}": expected {f.expected}, got {f.got[:5]}'
            )
        if not self.failures:
            lines.append("None.")
        return "\n".join(lines) + "\n"


def _best_threshold(ins: list[float], outs: list[float]) -> tuple[float, float]:
    best = (0.0, 0.0)
    for t in sorted(set(ins + outs)):
        acc = (sum(c >= t for c in ins) + sum(c < t for c in outs)) / (len(ins) + len(outs))
        if acc > best[1]:
            best = (t, acc)
    return best


def run_retrieval_eval(
    search: Callable[..., Any],
    cases: RetrievalSet,
    *,
    threshold: float,
    progress: Callable[[int, int], None] | None = None,
) -> RetrievalReport:
    """``search(question, k, mode=...)`` returns a RetrievalResult."""
    scores: list[ModeScores] = []
    failures: list[Failure] = []
    in_conf: list[float] = []
    total = len(cases.questions) * len(MODES) + len(cases.out_of_scope)
    done = 0
    for mode in MODES:
        per: dict[str, list[float]] = {
            k: [] for k in ("h1", "h3", "h5", "r1", "r3", "r5", "mrr", "ndcg")
        }
        times = []
        for case in cases.questions:
            start = time.perf_counter()
            res = search(case.question, DEPTH, mode=mode)
            times.append((time.perf_counter() - start) * 1000)
            ranked = res.doc_ids()
            rel = case.relevant
            per["h1"].append(hit_at(ranked, rel, 1))
            per["h3"].append(hit_at(ranked, rel, 3))
            per["h5"].append(hit_at(ranked, rel, 5))
            per["r1"].append(recall_at(ranked, rel, 1))
            per["r3"].append(recall_at(ranked, rel, 3))
            per["r5"].append(recall_at(ranked, rel, 5))
            per["mrr"].append(reciprocal_rank(ranked, rel))
            per["ndcg"].append(ndcg_at(ranked, rel, 5))
            if not hit_at(ranked, rel, 5):
                failures.append(Failure(mode, case.id, case.question, rel, ranked))
            if mode == "hybrid":
                in_conf.append(res.confidence)
            done += 1
            if progress:
                progress(done, total)
        times.sort()
        scores.append(
            ModeScores(
                mode,
                *(
                    statistics.fmean(per[k])
                    for k in ("h1", "h3", "h5", "r1", "r3", "r5", "mrr", "ndcg")
                ),
                latency_p50_ms=statistics.median(times),
                latency_p95_ms=times[min(len(times) - 1, int(0.95 * len(times)))],
            )
        )
    out_conf = []
    for case in cases.out_of_scope:
        out_conf.append(search(case.question, DEPTH, mode="hybrid").confidence)
        done += 1
        if progress:
            progress(done, total)
    n_all = len(in_conf) + len(out_conf)
    acc = (sum(c >= threshold for c in in_conf) + sum(c < threshold for c in out_conf)) / n_all
    suggested, _ = _best_threshold(in_conf, out_conf)
    hyb = next(s for s in scores if s.mode == "hybrid")
    others = [s for s in scores if s.mode != "hybrid"]
    targets = {
        "hit@5 >= 0.95": hyb.hit_at_5 >= 0.95,
        "MRR >= 0.85": hyb.mrr >= 0.85,
        "better than both baselines (MRR)": all(hyb.mrr > s.mrr for s in others),
    }
    return RetrievalReport(
        len(cases.questions),
        scores,
        failures,
        in_conf,
        out_conf,
        threshold,
        acc,
        suggested,
        targets,
    )


def write_report(report: RetrievalReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "retrieval_report.md"
    js = out_dir / "retrieval_report.json"
    md.write_text(report.to_markdown(), encoding="utf-8")
    js.write_text(report.to_json(), encoding="utf-8")
    return md, js
