"""What a price import would change: the diff ``advisor catalog import`` prints.

An :class:`ImportPlan` lists, per instance type and region, the prices that are new,
changed (old -> new figures and dates), removed (catalogued, absent from a feed that covers
them) or unchanged, and the feed rows skipped with the reason. Building it
(:func:`~advisor.tools.priceimport.plan_import`) reads nothing but the catalog and the feed;
writing it is :func:`~advisor.tools.priceimport.write_import`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .feeds import Skip

FIELDS = ("on_demand", "spot", "commit_1y", "commit_3y")


def usd(value: float) -> str:
    """$29.38708, $55.04, $48 (to the catalog's precision, no trailing zeros)."""
    return "$" + f"{value:.6f}".rstrip("0").rstrip(".")


LABELS = {"on_demand": "on-demand", "spot": "spot", "commit_1y": "1-yr", "commit_3y": "3-yr"}
Kind = Literal["changed", "new", "removed", "unchanged"]


@dataclass(frozen=True)
class PriceDiff:
    """One instance type in one region: its figures before and after (USD per hour)."""

    kind: Kind
    instance: str
    region: str
    old: dict[str, float]
    new: dict[str, float]
    old_as_of: dt.date | None
    new_as_of: dt.date | None
    line: int | None = None
    notes: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # catalogued figures the feed does not give (left as they are)
    dropped: tuple[str, ...] = ()  # figures removed because they would break a rule
    new_instance: bool = False
    computed: bool = False  # the new figures are computed from the feed's parts

    def figures(self) -> str:
        """'on-demand $31.92 -> $23.92, spot $9.1 (kept), 1-yr $20 (added)'."""
        parts = []
        for f in FIELDS:
            old, new = self.old.get(f), self.new.get(f)
            label = LABELS[f]
            if old is None and new is None:
                continue
            if f in self.dropped and old is not None:
                parts.append(f"{label} {usd(old)} -> dropped")
            elif self.kind == "removed" or new is None:
                parts.append(f"{label} {usd(old)}" if old is not None else "")
            elif f in self.kept:
                parts.append(f"{label} {usd(new)} (kept)")
            elif old is None:
                parts.append(f"{label} {usd(new)}" + (" (added)" if self.kind == "changed" else ""))
            elif old == new:
                parts.append(f"{label} {usd(old)}")
            else:
                parts.append(f"{label} {usd(old)} -> {usd(new)}")
        return ", ".join(p for p in parts if p)

    def to_text(self) -> str:
        if self.kind == "changed":
            dates = f"as of {self.old_as_of} -> {self.new_as_of}"
        else:
            dates = f"as of {self.new_as_of if self.kind == 'new' else self.old_as_of}"
        where = f" (line {self.line})" if self.line else ""
        extra = "".join(f"; {n}" for n in self.notes)
        return f"  {self.instance} {self.region}: {self.figures()}, {dates}{where}{extra}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "instance": self.instance,
            "region": self.region,
            "old": self.old,
            "new": self.new,
            "old_as_of": self.old_as_of,
            "new_as_of": self.new_as_of,
            "line": self.line,
            "notes": list(self.notes),
            "kept": list(self.kept),
            "dropped": list(self.dropped),
            "new_instance": self.new_instance,
            "computed": self.computed,
        }


@dataclass
class ImportPlan:
    """A feed compared with one ``instances-<provider>.yaml``."""

    source: str
    provider: str
    where: str
    title: str
    url: str
    file: Path
    as_of: dt.date
    as_of_from: str
    today: dt.date
    records: int
    rows_in_scope: int
    changed: list[PriceDiff] = field(default_factory=list)
    new: list[PriceDiff] = field(default_factory=list)
    removed: list[PriceDiff] = field(default_factory=list)
    unchanged: list[PriceDiff] = field(default_factory=list)
    new_instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    price_note: str | None = None  # added to the notes of rows given computed prices
    written: bool = False
    pruned: bool = False

    @property
    def redated(self) -> list[PriceDiff]:
        return [d for d in self.unchanged if d.new_as_of != d.old_as_of]

    @property
    def has_changes(self) -> bool:
        return bool(self.changed or self.new or self.redated or (self.pruned and self.removed))

    def to_text(self, *, limit: int = 40) -> str:
        lines = [
            f"Feed: {self.title} ({self.source}, provider {self.provider}) from {self.where}: "
            f"{self.records} records, {self.rows_in_scope} prices in catalogued regions.",
            f"Prices as of {self.as_of} ({self.as_of_from}).",
            f"Catalog file: {self.file}",
        ]
        sections: list[tuple[str, list[PriceDiff]]] = [
            (f"Changed ({len(self.changed)}): old -> new", self.changed),
            (f"New ({len(self.new)})", self.new),
            (
                f"Removed ({len(self.removed)}): catalogued, not in the feed"
                + ("" if self.pruned else " (kept; --prune deletes them)"),
                self.removed,
            ),
        ]
        for title, diffs in sections:
            if not diffs:
                continue
            lines += ["", title]
            lines += [d.to_text() for d in diffs[:limit]]
            if len(diffs) > limit:
                lines.append(f"  ... and {len(diffs) - limit} more (--json lists all)")
        if self.new_instances:
            lines += ["", f"New instances ({len(self.new_instances)}):"]
            for name, row in list(self.new_instances.items())[:limit]:
                lines.append(
                    f"  {name}: {row['accelerator_count']} x {row['accelerator']}, "
                    f"{row['vcpus']} vCPUs, {row['ram_gb']:g} GiB, {len(row['prices'])} region(s)"
                )
        redated = len(self.redated)
        if self.unchanged:
            lines += [
                "",
                f"Unchanged: {len(self.unchanged)} prices"
                + (f" ({redated} re-dated to {self.as_of})" if redated else ""),
            ]
        if self.skipped:
            lines += ["", f"Skipped ({sum(s.count for s in self.skipped)} rows):"]
            for s in self.skipped[:limit]:
                where = f" {s.region}" if s.region else ""
                n = f" x{s.count}" if s.count > 1 else ""
                at = f" (line {s.line})" if s.line else ""
                lines.append(f"  {s.instance_type}{where}{n}{at}: {s.reason}")
            if len(self.skipped) > limit:
                lines.append(f"  ... and {len(self.skipped) - limit} more (--json lists all)")
        if self.notes:
            lines += ["", "Notes:"] + [f"  {n}" for n in self.notes]
        lines.append("")
        if self.written:
            lines.append(f"Written: {self.file}")
        elif not self.has_changes:
            lines.append("Nothing to write: the catalog already has these prices.")
        else:
            lines.append(f"Dry run: nothing written. Add --write to update {self.file.name}.")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "provider": self.provider,
            "where": self.where,
            "title": self.title,
            "url": self.url,
            "file": str(self.file),
            "as_of": self.as_of,
            "as_of_from": self.as_of_from,
            "records": self.records,
            "rows_in_scope": self.rows_in_scope,
            "changed": [d.to_dict() for d in self.changed],
            "new": [d.to_dict() for d in self.new],
            "removed": [d.to_dict() for d in self.removed],
            "unchanged": [d.to_dict() for d in self.unchanged],
            "new_instances": sorted(self.new_instances),
            "skipped": [s.__dict__ for s in self.skipped],
            "notes": self.notes,
            "written": self.written,
            "pruned": self.pruned,
        }
