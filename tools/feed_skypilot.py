"""SkyPilot catalog CSVs (``catalogs/v8/<cloud>/vms.csv``) as feed rows.

The columns are named in the header (their order differs by cloud): ``InstanceType``,
``AcceleratorName``, ``AcceleratorCount``, ``vCPUs``, ``MemoryGiB``, ``Price``, ``SpotPrice``,
``Region`` and, for some clouds, ``AvailabilityZone``. One row per zone: the on-demand price
is the region's, the spot price is the lowest zone's. Prices are USD per instance-hour; the
files carry no date (the commit that changed them does).

GCP is the exception: SkyPilot's GCP rows price the VM without its GPUs and list each GPU
count as a row of its own (empty ``InstanceType``); an accelerator-optimized VM's price is
the VM row plus the GPU row, as SkyPilot adds them. TPU slices are rows of their own too,
named like the catalog's (``tpu-v6e-8``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import TextIO
from urllib.parse import urlparse

from .errors import FeedError, InvalidInputError
from .feeds import Context, Feed, FeedRow, Skip, cheaper, is_url, number, whole

REQUIRED = ("InstanceType", "Price", "Region")
HEADER_HINT = (
    "a SkyPilot vms.csv header names InstanceType, AcceleratorName, AcceleratorCount, vCPUs, "
    "MemoryGiB, Price, SpotPrice and Region"
)
# SkyPilot's cloud folders and the catalog's provider ids
CLOUDS = {"aws": "aws", "azure": "azure", "gcp": "gcp", "lambda": "lambda", "nebius": "nebius"}
CLOUDS.update({"oci": "oci", "coreweave": "coreweave"})
# SkyPilot accelerator names that name one catalogued part, whatever the cloud.
ACCELERATORS = {
    "A10": "a10",
    "A10G": "a10g",
    "A6000": "rtx-a6000",
    "B200": "b200",
    "B300": "b300",
    "H200": "h200",
    "L4": "l4",
    "L40": "l40",
    "L40S": "l40s",
    "MI300X": "mi300x",
    "T4": "t4",
}
# Names that do not say which part: a new row with one of them is left to a person.
AMBIGUOUS = {
    "A100": "SkyPilot's 'A100' (40 GB) does not say SXM or PCIe",
    "A100-80GB": "SkyPilot's 'A100-80GB' does not say SXM or PCIe",
    "H100": "SkyPilot's 'H100' does not say SXM, PCIe or NVL",
    "V100": "SkyPilot's 'V100' does not say 16 or 32 GB, SXM2 or PCIe",
    "V100-32GB": "SkyPilot's 'V100-32GB' does not say SXM2 or PCIe",
}
# GCP: the GPU row SkyPilot adds to a VM row, by machine family
GCP_GPUS = {
    "a2-highgpu": "A100",
    "a2-megagpu": "A100",
    "a2-ultragpu": "A100-80GB",
    "a3-highgpu": "H100",
    "a3-edgegpu": "H100",
    "a3-megagpu": "H100-MEGA",
    "g2-standard": "L4",
}


def provider_from_path(location: str) -> str | None:
    """``.../catalogs/v8/lambda/vms.csv`` -> ``lambda`` (the folder above the file)."""
    path = urlparse(location).path if is_url(location) else location.replace("\\", "/")
    for part in reversed(PurePosixPath(path).parts[:-1]):
        if part.lower() in CLOUDS:
            return CLOUDS[part.lower()]
    return None


def feed_url(location: str, cloud: str) -> str:
    if is_url(location):
        return location
    return (
        f"https://github.com/skypilot-org/skypilot-catalog/blob/master/catalogs/v8/{cloud}/vms.csv"
    )


@dataclass
class _Agg:
    """The zones of one instance type in one region, folded together."""

    line: int
    on_demand: float | None = None
    spot: float | None = None
    accelerator: str = ""
    count: int | None = None
    vcpus: int | None = None
    ram_gb: float | None = None
    zones: set[str] = field(default_factory=set)


def read(fh: TextIO, where: str, ctx: Context) -> Feed:
    """Read one SkyPilot ``vms.csv`` for ``ctx.provider``."""
    reader = csv.reader(fh)
    header = next(reader, None)
    if not header:
        raise FeedError(where, 1, f"empty file; {HEADER_HINT}")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FeedError(where, 1, f"no column {', '.join(missing)} in the header; {HEADER_HINT}")
    col = {name: n for n, name in enumerate(header)}
    rows: dict[tuple[str, str], _Agg] = {}
    gpus: dict[tuple[str, int, str], _Agg] = {}  # GCP: (name, count, region) -> price
    records = 0
    for cells in reader:
        line = reader.line_num
        if not cells or not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise FeedError(where, line, f"{len(cells)} fields; the header has {len(header)}")
        records += 1

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]].strip() if name in col else ""

        def num(name: str, line: int = line) -> float | None:
            return number(cell(name), f"column {name}", where, line)

        itype, region, acc = cell("InstanceType"), cell("Region"), cell("AcceleratorName")
        if not region:
            raise FeedError(where, line, "column Region is empty")
        price, spot = num("Price"), num("SpotPrice")
        count = whole(num("AcceleratorCount"))
        if not itype:
            if not acc:
                raise FeedError(where, line, "column InstanceType is empty and no accelerator")
            if not acc.lower().startswith("tpu-"):
                key = (acc, count or 0, region)
                gpus[key] = _fold(gpus.get(key), line, price, spot, cell("AvailabilityZone"))
                continue
            itype, acc, count = acc, "", None  # a TPU slice, named like the catalog's rows
        agg = _fold(rows.get((itype, region)), line, price, spot, cell("AvailabilityZone"))
        agg.accelerator, agg.count = acc, count
        agg.vcpus, agg.ram_gb = whole(num("vCPUs")), num("MemoryGiB")
        rows[(itype, region)] = agg
    cloud = next((k for k, v in CLOUDS.items() if v == ctx.provider), ctx.provider)
    feed = Feed(
        source="skypilot",
        provider=ctx.provider,
        where=where,
        title=f"SkyPilot catalog catalogs/v8/{cloud}/vms.csv",
        url=feed_url(where, cloud),
        as_of=None,
        as_of_from="",
        rows=[],
        records=records,
        notes=["SkyPilot's CSVs carry no date: pass --as-of with the date of the commit read."],
        price_note=(
            "Prices from SkyPilot's GCP catalog are COMPUTED: its VM row plus its GPU row for "
            "the same GPU count and region, as SkyPilot adds them."
            if ctx.provider == "gcp"
            else None
        ),
    )
    for (itype, region), agg in rows.items():
        row: FeedRow | None = _row(itype, region, agg, ctx)
        if row is not None and ctx.provider == "gcp" and not agg.accelerator:
            row = _with_gcp_gpus(row, agg, gpus, ctx, feed)
        if row is not None:
            feed.rows.append(row)
    return feed


def _fold(agg: _Agg | None, line: int, price: float | None, spot: float | None, zone: str) -> _Agg:
    agg = agg or _Agg(line=line)
    agg.on_demand = cheaper(agg.on_demand, price or None)
    agg.spot = cheaper(agg.spot, spot or None)
    if zone:
        agg.zones.add(zone)
    return agg


def _row(itype: str, region: str, agg: _Agg, ctx: Context) -> FeedRow:
    acc_id, blocker = None, None
    if agg.accelerator:
        acc_id = ACCELERATORS.get(agg.accelerator)
        if agg.accelerator in AMBIGUOUS:
            blocker = AMBIGUOUS[agg.accelerator]
        elif acc_id is None or acc_id not in ctx.accelerators:
            blocker = (
                f"accelerator {agg.accelerator!r} is not one this importer maps to the catalog"
            )
            acc_id = None
    return FeedRow(
        instance_type=itype,
        region=region,
        line=agg.line,
        on_demand=agg.on_demand,
        spot=agg.spot,
        accelerator_id=acc_id,
        accelerator_count=agg.count if agg.accelerator else None,
        vcpus=agg.vcpus,
        ram_gb=agg.ram_gb,
        blocker=blocker,
    )


def _with_gcp_gpus(
    row: FeedRow, agg: _Agg, gpus: dict[tuple[str, int, str], _Agg], ctx: Context, feed: Feed
) -> FeedRow | None:
    """A GCP VM row plus its GPU row; None (and a skip) when the GPU price is not there."""
    inst = ctx.instance(row.instance_type)
    family = row.instance_type.rsplit("-", 1)[0]
    gpu = GCP_GPUS.get(family)
    if inst is None and gpu is not None:
        return replace(row, blocker="SkyPilot's GCP VM rows leave out the GPUs' count and model")
    if inst is None or inst.accelerator is None or row.instance_type.startswith("tpu-"):
        return row  # not catalogued (a CPU-only type) or a TPU slice: as it is
    if gpu is None:
        feed.skipped.append(
            Skip(
                row.instance_type,
                f"SkyPilot prices the {family} VM without its GPUs and this importer does not "
                "know which GPU row to add",
                row.region,
                row.line,
            )
        )
        return None
    part = gpus.get((gpu, inst.accelerator_count, row.region))
    if part is None or part.on_demand is None or row.on_demand is None:
        feed.skipped.append(
            Skip(
                row.instance_type,
                f"no {inst.accelerator_count} x {gpu} GPU row for this region",
                row.region,
                row.line,
            )
        )
        return None
    spot = None
    if row.spot is not None and part.spot is not None:
        spot = round(row.spot + part.spot, 6)
    return replace(
        row,
        on_demand=round(row.on_demand + part.on_demand, 6),
        spot=spot,
        detail=(
            f"COMPUTED: VM ${row.on_demand:g} + {inst.accelerator_count} x {gpu} "
            f"${part.on_demand:g} (line {part.line})"
        ),
    )


def provider_for(location: str, provider: str | None) -> str:
    """The catalog provider a SkyPilot file is for: ``--provider`` or the file's folder."""
    if provider:
        return provider
    found = provider_from_path(location)
    if found is None:
        raise InvalidInputError(
            f"Cannot tell which cloud {location} is for.",
            hint="pass --provider (aws, azure, gcp, lambda, nebius...).",
        )
    return found
