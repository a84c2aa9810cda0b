"""Decision aid: scores qualitative factors into cloud / on-prem / hybrid with reasons.

Each factor is answered on a 1-5 scale (3 = neutral). Each factor leans toward cloud or
on-prem; its weight says how strongly. The weights are the project's own judgement, taken
from the trade-offs laid out in the guides (cloud-vs-onprem, procurement-and-lead-times,
data-sovereignty-and-compliance, managed-ai-services-and-lock-in, onprem-tco).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidInputError
from .result import Quantity, ToolResult


@dataclass(frozen=True)
class Factor:
    key: str
    question: str
    direction: int  # +1: a high answer favours on-prem; -1: favours cloud
    weight: float
    high_reason: str
    low_reason: str


FACTORS: tuple[Factor, ...] = (
    Factor(
        "urgency",
        "How soon must the workload run? (5 = within weeks)",
        -1,
        1.5,
        "you need capacity within weeks; cloud starts today, servers take months",
        "you can wait for procurement and installation",
    ),
    Factor(
        "skills",
        "In-house skills to run GPU clusters (5 = strong team)",
        +1,
        1.2,
        "you have the team to run clusters, networking and drivers",
        "you lack cluster operations skills; the cloud supplies them",
    ),
    Factor(
        "lead_time_tolerance",
        "Can you tolerate months of procurement lead time?",
        +1,
        0.8,
        "months of hardware lead time are acceptable",
        "hardware lead times of months are not acceptable",
    ),
    Factor(
        "cost_predictability",
        "How much do you need predictable, fixed costs?",
        +1,
        0.8,
        "fixed, predictable spend matters; owned hardware is a known monthly cost",
        "variable pay-as-you-go spend is acceptable",
    ),
    Factor(
        "utilization",
        "Expected sustained utilization (5 = busy around the clock)",
        +1,
        2.0,
        "sustained high utilization amortizes owned hardware",
        "bursty or low utilization wastes owned hardware; pay only for use",
    ),
    Factor(
        "control",
        "Need for control and deep hardware customization",
        +1,
        1.0,
        "you need control of topology, firmware and hardware",
        "standard cloud configurations are enough",
    ),
    Factor(
        "sovereignty",
        "Data sovereignty / regulatory constraints (5 = strict)",
        +1,
        1.5,
        "strict data residency or regulation favours hardware you control",
        "no strict residency constraints",
    ),
    Factor(
        "lock_in_aversion",
        "How much must you avoid vendor lock-in?",
        +1,
        0.7,
        "avoiding provider lock-in matters (portable stacks, owned hardware)",
        "managed services and their lock-in are acceptable",
    ),
    Factor(
        "horizon",
        "How long will the workload run? (5 = 3+ years)",
        +1,
        1.3,
        "a multi-year horizon lets purchases pay back",
        "a short horizon never amortizes a purchase",
    ),
    Factor(
        "elasticity",
        "Need to scale up and down quickly (5 = very spiky)",
        -1,
        1.2,
        "spiky demand needs elastic capacity",
        "demand is steady",
    ),
)


def decide(**answers: int) -> ToolResult:
    """Score answers (1-5 per factor; unanswered = 3) into a recommendation.

    score = sum(weight x direction x (answer - 3)) / sum(weight x 2), in [-1, 1]:
    above +0.15 on-prem, below -0.15 cloud, otherwise hybrid.
    Example: ``decide(utilization=5, horizon=5, sovereignty=5, urgency=1)`` -> on-prem.
    """
    known = {f.key for f in FACTORS}
    unknown = set(answers) - known
    if unknown:
        raise InvalidInputError(
            f"Unknown factor(s): {', '.join(sorted(unknown))}.",
            hint=f"use: {', '.join(f.key for f in FACTORS)}.",
        )
    total_w = sum(f.weight * 2 for f in FACTORS)
    score = 0.0
    reasons: list[tuple[float, str]] = []
    for f in FACTORS:
        value = answers.get(f.key, 3)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidInputError(f"{f.key} must be a whole number from 1 to 5, got {value!r}.")
        contribution = f.weight * f.direction * (value - 3)
        score += contribution
        if value != 3:
            reason = f.high_reason if value > 3 else f.low_reason
            side = "on-prem" if contribution > 0 else "cloud"
            reasons.append((abs(contribution), f"{reason} (favours {side})"))
    normalized = score / total_w
    if normalized > 0.15:
        verdict = "on-prem"
    elif normalized < -0.15:
        verdict = "cloud"
    else:
        verdict = "hybrid"
    reasons.sort(reverse=True)
    top = [r for _, r in reasons[:4]]
    headline = (
        f"Recommendation: {verdict} (score {normalized:+.2f} on a -1 cloud .. +1 on-prem scale)"
    )
    if top:
        headline += ": " + "; ".join(top[:2])
    return ToolResult(
        tool="decide",
        headline=headline + ".",
        inputs={f.key: answers.get(f.key, 3) for f in FACTORS},
        values={
            "recommendation": Quantity(label="Recommendation", value=verdict),
            "score": Quantity(label="Score (-1 cloud .. +1 on-prem)", value=normalized),
        },
        formula=[
            "score = sum(weight x direction x (answer - 3)) / sum(2 x weight)",
            "on-prem above +0.15, cloud below -0.15, hybrid between",
        ],
        assumptions=[
            f"{f.key}: weight {f.weight:g}, high favours "
            f"{'on-prem' if f.direction > 0 else 'cloud'}"
            for f in FACTORS
        ]
        + ["Unanswered factors count as neutral (3)."],
        warnings=[] if answers else ["No factors answered: everything neutral."],
        alternatives=[],
    )
