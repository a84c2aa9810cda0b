"""Citation-support evaluation: how well the verifier separates supported from unsupported
(sentence, passage) pairs, and which threshold to use (``evals/citations.yaml``).

Precision matters more than recall here: a wrong sentence shown to a user is worse than a
right one dropped (the answer then falls back to extractive sentences). The suggested threshold
is the lowest one whose precision on this set is at least ``TARGET_PRECISION``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from advisor.errors import AdvisorError
from advisor.verify import MIN_LEXICAL, Verifier

TARGET_PRECISION = 0.95


class CitationPair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    sentence: str
    passage: str
    doc_id: str | None = None
    supported: bool
    origin: str


class CitationSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int
    pairs: list[CitationPair]


def load_citation_set(path: Path | None = None) -> CitationSet:
    p = path or Path(str(resources.files("advisor.evals").joinpath("citations.yaml")))
    try:
        return CitationSet.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AdvisorError(f"{p}: not a valid citation set: {exc}") from exc


@dataclass
class ScoredPair:
    id: str
    origin: str
    supported: bool
    score: float
    lexical: float
    semantic: float
    predicted: bool
    sentence: str
    contradiction: bool = False


@dataclass
class CitationReport:
    threshold: float
    precision: float
    recall: float
    accuracy: float
    suggested_threshold: float
    n: int
    pairs: list[ScoredPair]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def to_markdown(self) -> str:
        lines = [
            "# Citation-support evaluation",
            "",
            f"{self.n} labelled pairs (`evals/citations.yaml`). A sentence counts as supported "
            f"when support >= threshold and lexical overlap >= {MIN_LEXICAL}.",
            "",
            "| threshold | precision | recall | accuracy |",
            "|---|---|---|---|",
            f"| {self.threshold:.2f} (in use) | {self.precision:.3f} | {self.recall:.3f} | "
            f"{self.accuracy:.3f} |",
            "",
            f"Lowest threshold with precision >= {TARGET_PRECISION}: "
            f"{self.suggested_threshold:.2f}.",
            "",
            "## Misclassified pairs",
            "",
        ]
        wrong = [p for p in self.pairs if p.predicted != p.supported]
        for p in wrong:
            lines.append(
                f"- {p.id} ({p.origin}) labelled {'supported' if p.supported else 'not'}"
                f", score {p.score:.2f} (lexical {p.lexical:.2f}, semantic "
                f"{p.semantic:.2f}): {p.sentence[:160]}"
            )
        if not wrong:
            lines.append("None.")
        return "\n".join(lines) + "\n"


def _rates(pairs: list[ScoredPair], predict: list[bool]) -> tuple[float, float, float]:
    tp = sum(1 for p, y in zip(pairs, predict, strict=True) if y and p.supported)
    fp = sum(1 for p, y in zip(pairs, predict, strict=True) if y and not p.supported)
    fn = sum(1 for p, y in zip(pairs, predict, strict=True) if not y and p.supported)
    correct = sum(1 for p, y in zip(pairs, predict, strict=True) if y == p.supported)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, correct / len(pairs)


def run_citation_eval(verifier: Verifier, data: CitationSet) -> CitationReport:
    scored = []
    for pair in data.pairs:
        score, lexical, semantic = verifier.support(pair.sentence, pair.passage)
        contradiction = score < 1.0 and verifier.contradicts(pair.sentence, pair.passage)
        scored.append(
            ScoredPair(
                pair.id,
                pair.origin,
                pair.supported,
                score,
                lexical,
                semantic,
                verifier.supported(score, lexical) and not contradiction,
                pair.sentence,
                bool(contradiction),
            )
        )
    precision, recall, accuracy = _rates(scored, [p.predicted for p in scored])
    suggested = 1.0
    for t in sorted({round(p.score, 3) for p in scored}):
        predict = [
            p.score >= t and p.lexical >= MIN_LEXICAL and not p.contradiction for p in scored
        ]
        if _rates(scored, predict)[0] >= TARGET_PRECISION:
            suggested = t
            break
    return CitationReport(
        verifier.threshold, precision, recall, accuracy, suggested, len(scored), scored
    )
