"""The result type every calculator returns.

A :class:`ToolResult` holds named quantities (value, unit, optional low-high range), the
formula and assumptions used, the catalog rows it read (with sources and ``as_of``), warnings
and alternatives. It renders itself deterministically as a one-line summary and a Markdown
table, so no language model ever rewrites a number.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schema import Source

STALE_AFTER_DAYS = 180


class Quantity(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    value: float | str | bool
    unit: str = ""
    low: float | None = None
    high: float | None = None
    note: str | None = None

    def render(self) -> str:
        text = fmt(self.value, self.unit)
        if self.low is not None and self.high is not None and self.low != self.high:
            text += f" (range {fmt(self.low, '')}-{fmt(self.high, self.unit)})"
        return text


class CatalogRef(BaseModel):
    """A catalog row a result depends on."""

    model_config = ConfigDict(frozen=True)

    catalog: str
    row: str
    as_of: dt.date
    sources: list[Source]
    # an accelerator's status ("ga", "announced") or an instance's ("available", "retired")
    status: str | None = None


class Alternative(BaseModel):
    label: str
    detail: str
    values: dict[str, float | str] = Field(default_factory=dict)


class ToolResult(BaseModel):
    tool: str
    headline: str
    inputs: dict[str, Any]
    values: dict[str, Quantity]
    formula: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    refs: list[CatalogRef] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    table: list[dict[str, Any]] | None = None  # optional ranked rows (compare_options)

    @model_validator(mode="after")
    def _flag_announced(self) -> ToolResult:
        """Every result that reads an announced (not shipping) part or a retired instance
        says so."""
        for r in self.refs:
            note = {"announced": announced_warning, "retired": retired_warning}.get(r.status or "")
            if note is not None and note(r.row) not in self.warnings:
                self.warnings.append(note(r.row))
        return self

    def __getitem__(self, key: str) -> float:
        value = self.values[key].value
        if not isinstance(value, int | float):
            raise TypeError(f"{key} is not numeric")
        return float(value)

    def summary(self) -> str:
        """A deterministic one-line summary."""
        return self.headline

    def to_markdown(self) -> str:
        lines = [f"**{self.headline}**", "", "| quantity | value |", "|---|---|"]
        for q in self.values.values():
            lines.append(f"| {q.label} | {q.render()} |")
        if self.table:
            cols = list(self.table[0])
            lines += ["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            for row in self.table:
                lines.append("| " + " | ".join(_cell(row.get(c)) for c in cols) + " |")
        if self.formula:
            lines += ["", "Formula:"] + [f"- `{f}`" for f in self.formula]
        if self.assumptions:
            lines += ["", "Assumptions:"] + [f"- {a}" for a in self.assumptions]
        if self.alternatives:
            lines += ["", "Alternatives:"] + [f"- {a.label}: {a.detail}" for a in self.alternatives]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"- {w}" for w in self.warnings]
        if self.refs:
            lines += ["", "Sources:"]
            for ref in self.refs:
                links = ", ".join(f"[{s.title}]({s.url})" for s in ref.sources)
                lines.append(f"- {ref.catalog} `{ref.row}` (as of {ref.as_of}): {links}")
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return fmt(value, "")
    return "" if value is None else str(value)


def fmt(value: float | str | bool, unit: str) -> str:
    """Format a number for people: thousands separators, 3 significant digits for small values."""
    if isinstance(value, (bool, str)):
        text = str(value)
    elif math.isinf(value):
        text = "infinite"
    elif value == 0:
        text = "0"
    elif abs(value) >= 1e12:
        text = f"{value:.3g}"
    elif float(value).is_integer():
        text = f"{int(value):,}"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 0.01:
        text = f"{value:.3g}"
    else:
        text = f"{value:.2e}"
    if not unit:
        return text
    if unit in ("$", "USD"):
        return f"${text}"
    if unit.startswith("$/"):
        return f"${text}/{unit[2:]}"
    return f"{text} {unit}"


def ref(catalog: str, row: Any, label: str | None = None) -> CatalogRef:
    """A CatalogRef for a catalog row (anything with id/name, as_of and sources)."""
    key = (
        label
        or getattr(row, "id", None)
        or getattr(row, "name", None)
        or getattr(row, "region", None)
        or type(row).__name__
    )
    return CatalogRef(
        catalog=catalog,
        row=str(key),
        as_of=row.as_of,
        sources=list(row.sources),
        status=getattr(row, "status", None),
    )


def announced_warning(row: str) -> str:
    return (
        f"{row} is announced, not shipping: its figures are the vendor's announced targets "
        "and it cannot be rented or bought yet."
    )


def retired_warning(row: str) -> str:
    return (
        f"{row} is retired: its provider no longer offers it, so it cannot be rented; its "
        "figures describe the hardware it had."
    )


def stale_warnings(refs: list[CatalogRef], today: dt.date | None = None) -> list[str]:
    today = today or dt.date.today()
    out = []
    for r in refs:
        if r.catalog in ("instances", "onprem", "storage"):
            age = (today - r.as_of).days
            if age > STALE_AFTER_DAYS:
                out.append(
                    f"Price data for {r.row} is {age} days old (as of {r.as_of}); "
                    "check the provider's current price."
                )
    return out
