"""``advisor catalog import``: bring instance prices up to date from a public price feed.

    feed (file or URL) -> read_feed -> Feed rows -> plan_import -> ImportPlan (the diff)
                                                             -> write_import (only --write)

Rules, in order:

- The feed is read in full first: a malformed feed raises ``FeedError`` (``file:line``) and
  nothing is written.
- Rows are matched to catalogued instances of the feed's provider by name or alias, in the
  provider's catalogued regions (or the ``--region`` ones). A catalogued price whose figures
  differ is *changed*; one whose figures are the same is *unchanged* and re-dated to the
  feed's date; a region the instance has no price for yet is *new*; a catalogued price in a
  region the feed covers but absent from the feed is *removed* (deleted only with ``prune``).
- A feed older than a catalogued price never replaces it.
- An instance type the catalog lacks becomes a *new* row only when the feed gives a
  catalogued accelerator, its count, the vCPUs and the memory; otherwise it is skipped
  with the reason. CPU-only types are skipped.
- A replaced price moves to the row's ``price_history`` with its region, figures and date;
  each imported price gets ``as_of`` (the feed's date, ``--as-of``, or today) and
  ``source_url``, a source of the row. Figures the feed does not give are kept (and said so).
- The new file is validated by the catalog loader with every other catalog file before it
  replaces the old one (temp file + rename); the comments at its top are kept.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import typing
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import feed_aws, feed_azure, feed_gcp, feed_skypilot
from .catalog import _load, _norm, _SafeLoader, clear_cache, default_catalog_dir, load_catalog
from .errors import CatalogError, InvalidInputError, UnknownNameError
from .feeds import Context, Feed, FeedRow, Skip, is_url, open_text
from .importplan import FIELDS, ImportPlan, PriceDiff
from .schema import Instance, Provider, RegionPrice

SOURCES = ("skypilot", "aws", "azure", "gcp")
YAML_FIELDS = {f: f"{f}_usd_per_hour" for f in FIELDS}
MAX_PAGES = 200  # Azure pages followed from a URL
SUSPICIOUS_RATIO = 3.0  # a price that moves by more than this factor is flagged
# A saved file with no date of its own may be old: dating it today could roll prices back.
UNDATED = "today, for this dry run: the file carries no date; --write needs --as-of"
SAME_WITHIN = 1e-5  # relative: 29.3871 (catalogued) and 29.38708 (computed) are one price


# -- reading -------------------------------------------------------------------------
def read_feed(
    source: str,
    locations: Sequence[str],
    *,
    catalog_dir: str | Path | None = None,
    provider: str | None = None,
) -> Feed:
    """Read a feed (one file or URL; Azure: one or more pages) against the catalog."""
    if source not in SOURCES:
        raise InvalidInputError(
            f"Unknown price feed {source!r}.", hint=f"use one of: {', '.join(SOURCES)}."
        )
    if not locations:
        raise InvalidInputError("No feed file or URL given.")
    if len(locations) > 1 and source != "azure":
        raise InvalidInputError(
            f"The {source} feed is read from one file or URL, got {len(locations)}.",
            hint="only Azure Retail Prices pages come several at a time.",
        )
    if source == "skypilot":
        prov = feed_skypilot.provider_for(locations[0], provider)
    else:
        prov = source
        if provider and provider != source:
            raise InvalidInputError(f"The {source} feed prices {source}, not {provider}.")
    cat = load_catalog(catalog_dir)
    providers = typing.get_args(Provider)
    if prov not in providers:
        raise InvalidInputError(
            f"Provider {prov!r} is not catalogued ({', '.join(providers)}).",
            hint="a new provider needs its id in Provider (tools/schema.py) and an "
            f"instances-{prov}.yaml with its regions.",
        )
    ctx = Context(
        provider=prov,
        instances=tuple(i for i in cat.instances if i.provider == prov),
        regions=tuple(r for r in cat.regions if r.provider == prov),
        accelerators={a.id: a for a in cat.accelerators},
    )
    first = locations[0]
    if source == "azure":
        return _read_azure(locations, ctx)
    reader = {"skypilot": feed_skypilot.read, "aws": feed_aws.read, "gcp": feed_gcp.read}[source]
    with open_text(first, newline="" if source == "skypilot" else None) as fh:
        return reader(fh, first, ctx)


def _read_azure(locations: Sequence[str], ctx: Context) -> Feed:
    pages = feed_azure.Pages(meters={})
    for location in locations:
        link: str | None = location
        for _ in range(MAX_PAGES if is_url(location) else 1):
            if link is None:
                break
            with open_text(link) as fh:
                feed_azure.read_page(fh, link, pages)
            link = pages.next_link if is_url(location) else None
    where = locations[0] if len(locations) == 1 else f"{locations[0]} (+{len(locations) - 1})"
    url = locations[0] if is_url(locations[0]) else None
    return feed_azure.feed(where, pages, ctx, url=url)


# -- planning ------------------------------------------------------------------------
def plan_import(
    feed: Feed,
    catalog_dir: str | Path | None = None,
    *,
    regions: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
) -> ImportPlan:
    """Compare a read feed with the catalog: what --write would change, and what it skips."""
    directory = Path(catalog_dir) if catalog_dir is not None else default_catalog_dir()
    cat = load_catalog(directory)
    path = directory / f"instances-{feed.provider}.yaml"
    if not path.is_file():
        raise InvalidInputError(f"No {path.name} in {directory}.")
    day = today or dt.date.today()
    date, date_from = _as_of(feed, as_of, day)
    known_regions = {r.id for r in cat.regions if r.provider == feed.provider}
    scope = _scope(regions, known_regions)
    plan = ImportPlan(
        source=feed.source,
        provider=feed.provider,
        where=feed.where,
        title=feed.title,
        url=feed.url,
        file=path,
        as_of=date,
        as_of_from=date_from,
        today=day,
        records=feed.records,
        rows_in_scope=0,
        notes=list(feed.notes),
        price_note=feed.price_note,
    )
    insts = [i for i in cat.instances if i.provider == feed.provider]
    index = _instance_index(insts)
    skips: list[Skip] = list(feed.skipped)
    outside: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    covered_regions: set[str] = set()
    new_rows: dict[str, list[FeedRow]] = defaultdict(list)
    for skip in feed.skipped:  # in the feed, though not priceable: not "removed"
        inst = index.get(skip.instance_type) or index.get(_norm(skip.instance_type))
        if inst is not None and skip.region:
            seen.add((inst.name, skip.region))
    for row in feed.rows:
        if row.region not in known_regions:
            outside[row.region] += 1
            continue
        if row.region not in scope:
            continue
        plan.rows_in_scope += 1
        covered_regions.add(row.region)
        inst = index.get(row.instance_type) or index.get(_norm(row.instance_type))
        if inst is None:
            reason = _new_row_blocker(row, cat.accelerators)
            if reason:
                skips.append(Skip(row.instance_type, reason, row.region, row.line))
            else:
                new_rows[row.instance_type].append(row)
            continue
        seen.add((inst.name, row.region))
        diff = _compare(inst, row, date)
        if isinstance(diff, Skip):
            skips.append(diff)
        else:
            getattr(plan, diff.kind).append(diff)
    for name, rows in new_rows.items():
        _add_new_instance(plan, feed, name, rows, date, skips, insts)
    plan.removed = _removed(insts, feed, covered_regions, seen, date)
    for region, n in sorted(outside.items()):
        what = f"{n} row" + ("s" if n > 1 else "")
        skips.append(Skip(what, f"region {region!r} is not in {path.name}", region, None, n))
    plan.skipped = _grouped(skips)
    return plan


def _removed(
    insts: Sequence[Instance],
    feed: Feed,
    covered: set[str],
    seen: set[tuple[str, str]],
    date: dt.date,
) -> list[PriceDiff]:
    """Catalogued on-demand prices in regions the feed covers that the feed does not list
    (a feed older than the price says nothing about it)."""
    out = []
    for inst in insts:
        if not feed.covers(inst):
            continue
        for price in inst.prices:
            if price.region not in covered or (inst.name, price.region) in seen:
                continue
            if price.price_basis != "on_demand":
                continue  # a reservation rate: on-demand feeds do not list it
            old_date = price.as_of or inst.as_of
            if date < old_date:
                continue
            out.append(
                PriceDiff("removed", inst.name, price.region, _figures(price), {}, old_date, None)
            )
    return out


def _as_of(feed: Feed, as_of: dt.date | None, today: dt.date) -> tuple[dt.date, str]:
    if as_of is not None:
        if as_of > today:
            raise InvalidInputError(f"--as-of {as_of} is after today ({today}).")
        return as_of, "--as-of"
    if feed.as_of is not None:
        return feed.as_of, feed.as_of_from
    if is_url(feed.where):
        return today, "today: fetched now; the feed carries no date"
    return today, UNDATED


def _scope(regions: Sequence[str] | None, known: set[str]) -> set[str]:
    if not regions:
        return set(known)
    for region in regions:
        if region not in known:
            import difflib

            raise UnknownNameError("region", region, difflib.get_close_matches(region, known, 5))
    return set(regions)


def _instance_index(insts: Sequence[Instance]) -> dict[str, Instance]:
    index: dict[str, Instance] = {}
    for inst in insts:
        index.setdefault(inst.name, inst)
    for inst in insts:
        for key in (inst.name, *inst.aliases):
            index.setdefault(_norm(key), inst)
    return index


def _figures(price: RegionPrice) -> dict[str, float]:
    got = {f: getattr(price, YAML_FIELDS[f]) for f in FIELDS}
    return {f: v for f, v in got.items() if v is not None}


def _same(a: float | None, b: float | None) -> bool:
    """Equal to the catalog's precision: feeds print more digits than the rows keep."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= max(1e-6, SAME_WITHIN * max(abs(a), abs(b)))


def _compare(inst: Instance, row: FeedRow, date: dt.date) -> PriceDiff | Skip:
    """One feed row against the catalogued instance: a diff, or a skip with the reason."""
    if row.on_demand is None:
        return Skip(row.instance_type, "no on-demand price in the feed", row.region, row.line)
    if inst.is_retired or not inst.prices:
        why = f"retired on {inst.retired_on}" if inst.is_retired else "not priced in the catalog"
        return Skip(row.instance_type, f"{why}: it takes no prices", row.region, row.line)
    if row.on_demand > 1000:
        return Skip(row.instance_type, "above the catalog's $1000/h bound", row.region, row.line)
    given = {f: v for f in FIELDS if (v := getattr(row, f)) is not None}
    notes = [row.detail] if row.detail else []
    if given.get("spot", 0) > row.on_demand * 1.001:
        notes.append(f"feed spot ${given.pop('spot'):g} is above on-demand: not used")
    computed = bool(row.detail)
    price = next((p for p in inst.prices if p.region == row.region), None)
    if price is None:
        newest = max(p.as_of or inst.as_of for p in inst.prices)
        if date < newest:  # a new region from a feed older than the row's other prices
            return Skip(
                row.instance_type,
                f"the feed ({date}) is older than the row's catalogued prices ({newest})",
                row.region,
                row.line,
            )
        return PriceDiff(
            "new",
            inst.name,
            row.region,
            {},
            given,
            None,
            date,
            row.line,
            tuple(notes),
            computed=computed,
        )
    old = _figures(price)
    old_date = price.as_of or inst.as_of
    new = dict(given)
    kept, dropped = [], []
    for f, v in old.items():
        if f in given:
            continue
        if v > row.on_demand * 1.001:  # a kept discount above the new on-demand breaks a rule
            dropped.append(f)
            notes.append(f"catalogued {f} ${v:g} is above the new on-demand: dropped")
        else:
            new[f] = v
            kept.append(f)
    same = all(_same(old.get(f), new.get(f)) for f in set(old) | set(new) if f not in dropped)
    same = same and not dropped and price.price_basis == "on_demand"
    if date < old_date:
        if same:
            return PriceDiff(
                "unchanged", inst.name, row.region, old, new, old_date, old_date, row.line
            )
        return Skip(
            row.instance_type,
            f"the catalogued price ({old_date}) is newer than the feed ({date})",
            row.region,
            row.line,
        )
    if same:
        return PriceDiff("unchanged", inst.name, row.region, old, new, old_date, date, row.line)
    if price.price_basis != "on_demand":
        notes.append(f"price basis {price.price_basis} -> on_demand")
    ratio = row.on_demand / old["on_demand"] if old.get("on_demand") else 1.0
    if ratio > SUSPICIOUS_RATIO or ratio < 1 / SUSPICIOUS_RATIO:
        notes.append(f"CHECK: on-demand moves by a factor of {ratio:.2f}")
    return PriceDiff(
        "changed",
        inst.name,
        row.region,
        old,
        new,
        old_date,
        date,
        row.line,
        tuple(notes),
        tuple(kept),
        tuple(dropped),
        computed=computed,
    )


def _new_row_blocker(row: FeedRow, accelerators: Sequence[Any]) -> str | None:
    """Why a feed row for an uncatalogued type cannot be a new catalog row (None: it can)."""
    if row.blocker:
        return row.blocker
    if row.accelerator_id is None:
        return "no accelerator: CPU-only types are not imported"
    acc = next((a for a in accelerators if a.id == row.accelerator_id), None)
    if acc is None:
        return f"accelerator {row.accelerator_id!r} is not in accelerators.yaml"
    if acc.is_announced:
        return f"accelerator {acc.id!r} is announced, not shipping"
    missing = [
        what
        for what, value in (
            ("accelerator count", row.accelerator_count),
            ("vCPUs", row.vcpus),
            ("memory", row.ram_gb),
            ("on-demand price", row.on_demand),
        )
        if not value
    ]
    if missing:
        return f"the feed gives no {', '.join(missing)} for a new row"
    return None


def _add_new_instance(
    plan: ImportPlan,
    feed: Feed,
    name: str,
    rows: list[FeedRow],
    date: dt.date,
    skips: list[Skip],
    insts: Sequence[Instance],
) -> None:
    first = rows[0]
    source = {
        "title": f"{feed.title}, read by advisor catalog import {plan.today}",
        "url": feed.url,
    }
    prices = []
    for row in sorted(rows, key=lambda r: r.region):
        price: dict[str, Any] = {"region": row.region}
        top = (row.on_demand or 0) * 1.001
        for f in FIELDS:
            value = getattr(row, f)
            if value is not None and (f == "on_demand" or value <= top):
                price[YAML_FIELDS[f]] = value
        prices.append({**price, "as_of": date, "source_url": feed.url})
    storage = first.local_storage_gb
    data = {
        "provider": feed.provider,
        "name": name,
        "family": _family(feed.provider, name, first.accelerator_id or "", insts),
        "aliases": [],
        "accelerator": first.accelerator_id,
        "accelerator_count": first.accelerator_count,
        "vcpus": first.vcpus,
        "ram_gb": first.ram_gb,
        "local_storage_gb": storage or 0,
        "local_storage_type": first.local_storage_type or "none",
        "prices": prices,
        "available_regions": [],
        "price_history": [],
        "sources": [source],
        "as_of": date,
        "notes": (
            f"Added by advisor catalog import on {plan.today} from {feed.where} (line "
            f"{first.line}): accelerator, count, vCPUs, RAM (GiB as the feed gives it) and "
            "prices as the feed gives them. Network not in the feed (left empty)"
            + (
                "; local storage not in the feed (0 here means not stated)."
                if storage is None
                else "."
            )
        ),
    }
    try:
        Instance.model_validate(data)
    except ValidationError as exc:
        first_error = exc.errors()[0]
        where = ".".join(str(p) for p in first_error["loc"])
        skips.append(
            Skip(
                name, f"would not be a valid row ({where}: {first_error['msg']})", None, first.line
            )
        )
        return
    plan.new_instances[name] = data
    for price_row in prices:
        given = {f: price_row[YAML_FIELDS[f]] for f in FIELDS if YAML_FIELDS[f] in price_row}
        row = next(r for r in rows if r.region == price_row["region"])
        plan.new.append(
            PriceDiff(
                "new", name, row.region, {}, given, None, date, row.line, (), new_instance=True
            )
        )


def _family(provider: str, name: str, accelerator: str, insts: Sequence[Instance]) -> str:
    """AWS and GCP families are in the name; GPU clouds group by GPU, as their rows do."""
    if provider == "aws":
        return name.split(".")[0]
    if provider == "gcp":
        return name.split("-")[0]
    same = [i.family for i in insts if i.accelerator == accelerator]
    return same[0] if same else accelerator


def _grouped(skips: list[Skip]) -> list[Skip]:
    """One line per instance type and reason (with how many regions), in feed order."""
    groups: dict[tuple[str, str], list[Skip]] = {}
    for s in skips:
        groups.setdefault((s.instance_type, s.reason), []).append(s)
    out = []
    for (itype, reason), items in groups.items():
        regions = {s.region for s in items}
        region = items[0].region if len(regions) == 1 else f"{len(regions)} regions"
        lines = [s.line for s in items if s.line]
        out.append(
            Skip(itype, reason, region, min(lines) if lines else None, sum(s.count for s in items))
        )
    return out


# -- writing -------------------------------------------------------------------------
def write_import(plan: ImportPlan, *, prune: bool = False) -> bool:
    """Apply the plan to its YAML file (validated, atomic). False when nothing changes."""
    plan.pruned = prune
    if not plan.has_changes:
        return False
    if plan.as_of_from == UNDATED:
        raise InvalidInputError(
            f"{plan.where} carries no date, and dating its prices today could replace newer "
            "catalogued prices with older ones.",
            hint="pass --as-of YYYY-MM-DD: the day the file was fetched, or its commit date.",
        )
    text = plan.file.read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    rows = {i["name"]: i for i in data["instances"]}
    touched: set[str] = set()
    for diff in plan.changed:
        _apply_change(rows[diff.instance], diff, plan)
        touched.add(diff.instance)
    for diff in plan.redated:
        price = _price(rows[diff.instance], diff.region)
        price["as_of"], price["source_url"] = diff.new_as_of, plan.url
        rows[diff.instance]["prices"] = [_ordered(p) for p in rows[diff.instance]["prices"]]
        touched.add(diff.instance)
    for diff in plan.new:
        if diff.new_instance:
            continue
        row = rows[diff.instance]
        price = {"region": diff.region, **{YAML_FIELDS[f]: v for f, v in diff.new.items()}}
        row["prices"] = [*row["prices"], {**price, "as_of": diff.new_as_of, "source_url": plan.url}]
        if row.get("available_regions") and diff.region not in row["available_regions"]:
            row["available_regions"] = sorted([*row["available_regions"], diff.region])
        touched.add(diff.instance)
    if prune:
        _prune(data, rows, plan)
    for name in touched:
        _cite(rows[name], plan)
    computed = {d.instance for d in [*plan.changed, *plan.new] if d.computed}
    for name in computed & touched:
        _note(rows[name], plan.price_note)
    data["instances"] = [*data["instances"], *plan.new_instances.values()]
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    new_text = _header(text) + body
    _replace_validated(plan.file, new_text)
    plan.written = True
    return True


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, anchoring only shared lists and mappings (a shared sources list
    stays ``&id001``; a date used twice is written twice, not as an alias)."""

    def ignore_aliases(self, data: Any) -> bool:
        return not isinstance(data, (list, dict))


def _price(row: dict[str, Any], region: str) -> dict[str, Any]:
    return next(p for p in row["prices"] if p["region"] == region)


def _apply_change(row: dict[str, Any], diff: PriceDiff, plan: ImportPlan) -> None:
    old = ", ".join(f"{f.replace('_', '-')} ${v:g}" for f, v in diff.old.items())
    new = ", ".join(
        f"{f.replace('_', '-')} ${v:g}" for f, v in diff.new.items() if f not in diff.kept
    )
    note = (
        f"{diff.region}: {old} (as of {diff.old_as_of}) replaced by {new} as of "
        f"{diff.new_as_of} by advisor catalog import on {plan.today} from {plan.title} "
        f"({plan.where}, line {diff.line})."
    )
    if diff.kept:
        note += f" Kept (not in that feed): {', '.join(diff.kept)}."
    if diff.dropped:
        note += f" Dropped (above the new on-demand): {', '.join(diff.dropped)}."
    history: dict[str, Any] = {"date": diff.old_as_of, "note": note, "region": diff.region}
    history.update({YAML_FIELDS[f]: v for f, v in diff.old.items()})
    row["price_history"] = [*(row.get("price_history") or []), history]
    price = _price(row, diff.region)
    for f in FIELDS:
        price.pop(YAML_FIELDS[f], None)
    price.update({YAML_FIELDS[f]: v for f, v in diff.new.items()})
    price.pop("price_basis", None)
    price["as_of"], price["source_url"] = diff.new_as_of, plan.url
    row["prices"] = [_ordered(p) for p in row["prices"]]


def _ordered(price: dict[str, Any]) -> dict[str, Any]:
    order = ["region", *YAML_FIELDS.values(), "price_basis", "as_of", "source_url"]
    return {k: price[k] for k in order if k in price} | {
        k: v for k, v in price.items() if k not in order
    }


def _prune(data: dict[str, Any], rows: dict[str, dict[str, Any]], plan: ImportPlan) -> None:
    for diff in plan.removed:
        row = rows[diff.instance]
        row["prices"] = [p for p in row["prices"] if p["region"] != diff.region]
        if row["prices"]:
            history: dict[str, Any] = {
                "date": diff.old_as_of,
                "note": (
                    f"{diff.region}: price removed by advisor catalog import on {plan.today}: "
                    f"not in {plan.title} ({plan.where}) as of {plan.as_of}."
                ),
                "region": diff.region,
            }
            history.update({YAML_FIELDS[f]: v for f, v in diff.old.items()})
            row["price_history"] = [*(row.get("price_history") or []), history]
            row["available_regions"] = [
                r for r in row.get("available_regions") or [] if r != diff.region
            ]
    data["instances"] = [i for i in data["instances"] if i["prices"]]


def _cite(row: dict[str, Any], plan: ImportPlan) -> None:
    """The feed becomes one of the row's sources (once per URL)."""
    sources = row.get("sources") or []
    if any(str(s.get("url")) == plan.url for s in sources):
        return
    title = f"{plan.title}, read by advisor catalog import {plan.today}"
    row["sources"] = [*sources, {"title": title, "url": plan.url}]


def _note(row: dict[str, Any], sentence: str | None) -> None:
    notes = row.get("notes") or ""
    if sentence and sentence not in notes:
        row["notes"] = f"{notes} {sentence}".strip()


def _header(text: str) -> str:
    """The comment lines above the first key (and among the top keys) of a catalog file."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("regions:", "instances:")):
            break
        if line.startswith("#"):
            lines.append(line)
    return "".join(lines)


def _replace_validated(path: Path, text: str) -> None:
    """Validate ``text`` as ``path`` with the rest of its catalog, then swap it in atomically."""
    with tempfile.TemporaryDirectory(prefix="catalog-check-") as tmp:
        for other in path.parent.glob("*.yaml"):
            if other.name != path.name:
                shutil.copy2(other, tmp)
        Path(tmp, path.name).write_text(text, encoding="utf-8")
        try:
            _load.__wrapped__(Path(tmp))
        except CatalogError as exc:
            raise CatalogError(
                f"The import would break the catalog; nothing written. {exc}"
            ) from None
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, path.stat().st_mode & 0o777)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    clear_cache()


# -- all at once ---------------------------------------------------------------------
def import_prices(
    source: str,
    locations: Sequence[str],
    *,
    catalog_dir: str | Path | None = None,
    provider: str | None = None,
    regions: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    write: bool = False,
    prune: bool = False,
    today: dt.date | None = None,
) -> ImportPlan:
    """Read, compare and (with ``write``) apply one feed; returns the plan (the diff)."""
    feed = read_feed(source, locations, catalog_dir=catalog_dir, provider=provider)
    plan = plan_import(feed, catalog_dir, regions=regions, as_of=as_of, today=today)
    plan.pruned = prune
    if write:
        write_import(plan, prune=prune)
    return plan
