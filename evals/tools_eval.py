"""Numeric accuracy of the calculators against published figures (``evals/tools.yaml``).

Each case is checked twice: calling the tool directly with the case's arguments, and asking the
question through ``Advisor.ask`` (the router must pick the same tool with the right slots).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from advisor.dispatch import TOOL_FUNCS
from advisor.errors import AdvisorError


class Source(BaseModel):
    title: str
    url: str


class ToolCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    tool: str
    args: dict[str, Any]
    value: str
    expected: float
    rel_tol: float
    source: Source
    note: str | None = None
    routed: bool = True


class ToolSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int
    cases: list[ToolCase]


def load_tool_set(path: Path | None = None) -> ToolSet:
    p = path or Path(str(resources.files("advisor.evals").joinpath("tools.yaml")))
    try:
        data = ToolSet.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AdvisorError(f"{p}: not a valid tools eval set: {exc}") from exc
    unknown = [c.id for c in data.cases if c.tool not in TOOL_FUNCS]
    if unknown:
        raise AdvisorError(f"{p}: unknown tool in cases {', '.join(unknown)}")
    return data


def close_enough(got: float, expected: float, rel_tol: float) -> bool:
    return math.isclose(got, expected, rel_tol=rel_tol, abs_tol=1e-12)


@dataclass
class ToolOutcome:
    id: str
    tool: str
    expected: float
    direct: float | None
    direct_ok: bool
    via_advisor: float | None = None
    via_ok: bool | None = None
    error: str | None = None


@dataclass
class ToolsReport:
    outcomes: list[ToolOutcome] = field(default_factory=list)

    @property
    def direct_accuracy(self) -> float:
        return sum(o.direct_ok for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def advisor_accuracy(self) -> float | None:
        routed = [o for o in self.outcomes if o.via_ok is not None]
        return sum(bool(o.via_ok) for o in routed) / len(routed) if routed else None


def numeric_value(values: dict[str, Any], key: str) -> float | None:
    """The numeric ``value`` of ``values[key]`` (a Quantity or its dict), else None."""
    item = values.get(key)
    raw = item.get("value") if isinstance(item, dict) else getattr(item, "value", None)
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def run_tools_eval(
    data: ToolSet,
    ask: Callable[[str], Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ToolsReport:
    report = ToolsReport()
    for n, case in enumerate(data.cases, start=1):
        outcome = ToolOutcome(case.id, case.tool, case.expected, None, False)
        try:
            result = TOOL_FUNCS[case.tool](**case.args)
            outcome.direct = numeric_value(result.model_dump()["values"], case.value)
            outcome.direct_ok = outcome.direct is not None and close_enough(
                outcome.direct, case.expected, case.rel_tol
            )
        except (AdvisorError, TypeError, KeyError) as exc:
            outcome.error = str(exc)
        if ask is not None and case.routed:
            answer = ask(case.question)
            got = None
            for call in answer.tool_calls:
                if call.tool == case.tool and call.result:
                    got = numeric_value(call.result["values"], case.value)
                    if got is not None:
                        break
            outcome.via_advisor = got
            outcome.via_ok = got is not None and close_enough(got, case.expected, case.rel_tol)
        report.outcomes.append(outcome)
        if progress:
            progress(n, len(data.cases))
    return report
