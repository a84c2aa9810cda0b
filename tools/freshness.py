"""How old each catalog row is: the data behind ``advisor catalog check``.

Every row has ``as_of``. Price rows (instances, on-prem, storage) go stale: a price older than
the threshold is reported and makes the check fail. Spec rows (accelerators, models) are listed
with their age but never fail the check: a published config or datasheet does not expire.
Announced (not shipping) accelerators are listed so that someone looks at them again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import default_catalog_dir, validate_file
from .errors import InvalidInputError

DEFAULT_MAX_AGE_DAYS = 365
PRICE_FILES = ("instances", "onprem", "storage")


@dataclass(frozen=True)
class RowAge:
    file: str
    section: str
    row: str
    as_of: dt.date
    age_days: int
    is_price: bool
    sources: int


@dataclass
class FileReport:
    file: str
    rows: list[RowAge] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)

    def stale(self, max_age_days: int) -> list[RowAge]:
        old = [r for r in self.rows if r.is_price and r.age_days > max_age_days]
        return sorted(old, key=lambda r: r.as_of)


@dataclass
class CheckReport:
    directory: Path
    today: dt.date
    max_age_days: int
    files: list[FileReport]

    @property
    def stale(self) -> list[RowAge]:
        rows = [r for f in self.files for r in f.stale(self.max_age_days)]
        return sorted(rows, key=lambda r: r.as_of)

    @property
    def missing_sources(self) -> list[str]:
        return [m for f in self.files for m in f.missing_sources]

    @property
    def clean(self) -> bool:
        return not self.stale and not self.missing_sources

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "today": self.today.isoformat(),
            "max_age_days": self.max_age_days,
            "clean": self.clean,
            "files": [
                {
                    "file": f.file,
                    "rows": len(f.rows),
                    "oldest_as_of": min((r.as_of for r in f.rows), default=None),
                    "stale": [_row_dict(r) for r in f.stale(self.max_age_days)],
                    "missing_sources": f.missing_sources,
                    "announced": f.announced,
                }
                for f in self.files
            ],
        }


def _row_dict(r: RowAge) -> dict[str, Any]:
    return {"section": r.section, "row": r.row, "as_of": r.as_of, "age_days": r.age_days}


def _label(row: Any) -> str:
    for attr in ("id", "name", "region", "provider"):
        value = getattr(row, attr, None)
        if value:
            return str(value)
    return type(row).__name__


def _rows(key: str, data: Any) -> list[tuple[str, Any, dt.date]]:
    """(section, row, effective as_of) for every dated row of one validated file."""
    if key == "accelerators":
        return [("accelerators", a, a.as_of) for a in data.accelerators]
    if key == "models":
        return [("models", m, m.as_of) for m in data.models]
    if key == "instances":
        # An instance is as old as its oldest regional price.
        return [
            ("instances", i, min([p.as_of or i.as_of for p in i.prices], default=i.as_of))
            for i in data.instances
        ]
    if key == "onprem":
        out: list[tuple[str, Any, dt.date]] = []
        for section in ("servers", "network", "electricity", "colocation"):
            out += [(section, r, r.as_of) for r in getattr(data, section)]
        out.append(("defaults", data.defaults, data.defaults.as_of))
        return out
    if key == "training":
        return [("runs", r, r.as_of) for r in data.runs]
    if key == "speed":
        return [("benchmarks", b, b.as_of) for b in data.benchmarks]
    if key == "cloud":
        return [("errors", e, e.as_of) for e in data.errors]
    if key == "error":
        return [("signatures", e, e.as_of) for e in data.signatures]
    if key == "storage":
        return [("tiers", t, t.as_of) for t in data.tiers] + [
            ("egress", e, e.as_of) for e in data.egress
        ]
    return []


def check_file(path: Path, today: dt.date) -> FileReport:
    """Ages of one catalog file's rows (the file is validated first; a bad file raises)."""
    data = validate_file(path)
    key = path.stem.split("-")[0]
    report = FileReport(file=path.name)
    for section, row, as_of in _rows(key, data):
        label = _label(row)
        if section == "defaults":
            label = "defaults"
        n_sources = len(getattr(row, "sources", []) or [])
        report.rows.append(
            RowAge(
                file=path.name,
                section=section,
                row=label,
                as_of=as_of,
                age_days=(today - as_of).days,
                # a retired instance has no price to go stale: a spec row, like an accelerator
                is_price=key in PRICE_FILES and not getattr(row, "is_retired", False),
                sources=n_sources,
            )
        )
        if not n_sources:
            report.missing_sources.append(f"{section}/{label}")
        if getattr(row, "status", None) == "announced":
            report.announced.append(label)
    return report


def check_catalog(
    directory: str | Path | None = None,
    *,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    today: dt.date | None = None,
) -> CheckReport:
    """Per catalog file: stale price rows, rows without sources, announced accelerators."""
    if max_age_days < 0:
        raise InvalidInputError(f"max_age_days must be 0 or more, got {max_age_days}.")
    path = Path(directory) if directory is not None else default_catalog_dir()
    day = today or dt.date.today()
    files = [check_file(p, day) for p in sorted(path.glob("*.yaml"))]
    return CheckReport(directory=path, today=day, max_age_days=max_age_days, files=files)
