"""GCP Cloud Billing Catalog SKUs (Compute Engine, ``services/6F81-5844-456A/skus``) as rows.

Google prices a VM by its parts: one SKU per vCPU-hour and one per GiB-hour of memory for
each machine series ("A3 Instance Core running in Americas", "A3 Instance Ram ..."), and one
per GPU-hour for each GPU model ("Nvidia H100 80GB GPU running in Americas"), each listing
the regions it applies to in ``serviceRegions``; a ``Spot Preemptible`` prefix (usage type
``Preemptible``) is the spot rate. An accelerator-optimized VM costs

    vCPUs x core rate + memory GiB x RAM rate + GPUs x GPU rate

which is how SkyPilot's catalog builder prices them too. The vCPUs, memory and GPU count
come from the catalogued row, so only catalogued machine types are priced, in the regions
the row has a price for or lists as available (a SKU's ``serviceRegions`` says where it
bills, not where the machine type is offered), and only for the families below, whose SKU
descriptions SkyPilot's builder matches (A2, A3 High/Mega/Edge, G2). Not mapped: a3-ultragpu
(H200) and a4 (B200), whose GPU SKUs this importer has not seen named; TPU slices (a
separate service, Cloud TPU); committed-use SKUs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TextIO

from .errors import FeedError
from .feeds import Context, Feed, FeedRow, Skip, is_url, number, parse_date
from .jsonstream import JsonStream
from .schema import Instance

URL = "https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus"
# machine family -> (series in the core/RAM SKU names, GPU names in the GPU SKU names)
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "a2-highgpu": ("A2", ("A100",)),
    "a2-megagpu": ("A2", ("A100",)),
    "a2-ultragpu": ("A2", ("A100 80GB",)),
    "a3-highgpu": ("A3", ("H100 80GB",)),
    "a3-edgegpu": ("A3", ("H100 80GB",)),
    "a3-megagpu": ("A3", ("H100 80GB Mega", "H100 80GB Plus")),
    "g2-standard": ("G2", ("L4",)),
}
_PART = re.compile(
    r"^(?P<spot>Spot Preemptible )?(?:(?P<series>[A-Z]\d) Instance (?P<what>Core|Ram)"
    r"|Nvidia (?:Tesla )?(?P<gpu>.+?) GPU) running in (?P<where>.+)$"
)
_UNITS = {"Core": "h", "Ram": "GiBy.h", "GPU": "h"}


@dataclass
class _Rate:
    usd: float
    regions: int  # how many regions the SKU covers: a narrower SKU wins over a wider one
    line: int


def family(name: str) -> str:
    return name.rsplit("-", 1)[0]


def covers(inst: Instance) -> bool:
    return family(inst.name) in FAMILIES


def read(fh: TextIO, where: str, ctx: Context) -> Feed:
    js = JsonStream(fh, where)
    rates: dict[tuple[str, str, bool, str], _Rate] = {}  # (kind, name, spot, region)
    skipped: list[Skip] = []
    seen, records, next_token = False, 0, ""
    dates = []
    for key, _line in js.members():
        if key == "skus":
            seen = True
            for n, line in enumerate(js.elements()):
                records += 1
                sku = js.value()
                found = _rate(sku, n, line, where, skipped)
                if found is None:
                    continue
                kind, name, spot, usd, regions, when = found
                dates.append(when)
                for region in regions:
                    k = (kind, name, spot, region)
                    if k not in rates or len(regions) < rates[k].regions:
                        rates[k] = _Rate(usd, len(regions), line)
        elif key == "nextPageToken":
            token = js.value()
            next_token = token if isinstance(token, str) else ""
        else:
            js.value()
    js.end()
    if not seen:
        raise FeedError(where, 1, "not a Cloud Billing Catalog SKU list: no 'skus' array")
    as_of = max((d for d in dates if d), default=None)
    notes = [
        "GCP prices VMs by part: prices are COMPUTED from core, RAM and GPU SKUs for "
        f"catalogued {', '.join(sorted(FAMILIES))} types. Not mapped: a3-ultragpu, a4, TPU "
        "slices (Cloud TPU service), committed-use SKUs."
    ]
    if next_token:
        notes.append(f"The page has a nextPageToken ({next_token}): later pages were not read.")
    rows = []
    for inst in ctx.instances:
        rows += _priced(inst, rates, skipped)
    return Feed(
        source="gcp",
        provider=ctx.provider,
        where=where,
        title="GCP Cloud Billing Catalog, Compute Engine SKUs (core, RAM and GPU rates)",
        url=where if is_url(where) else URL,
        as_of=as_of,
        as_of_from="the SKUs' pricingInfo.effectiveTime" if as_of else "",
        rows=rows,
        records=records,
        skipped=skipped,
        notes=notes,
        covers=covers,
        price_note=(
            "Prices from the Cloud Billing Catalog are COMPUTED from its per-part SKUs: vCPUs x "
            "core rate + memory GiB x RAM rate + GPUs x GPU rate."
        ),
    )


def _rate(
    sku: Any, n: int, line: int, where: str, skipped: list[Skip]
) -> tuple[str, str, bool, float, list[str], Any] | None:
    if not isinstance(sku, dict) or not isinstance(sku.get("description"), str):
        raise FeedError(where, line, f"skus[{n}] has no 'description'")
    category = sku.get("category")
    if not isinstance(category, dict):
        raise FeedError(where, line, f"skus[{n}] has no 'category'")
    match = _PART.match(sku["description"])
    usage = category.get("usageType")
    if match is None or usage not in ("OnDemand", "Preemptible"):
        return None
    spot = bool(match["spot"])
    if spot != (usage == "Preemptible"):
        return None
    kind = match["what"] or "GPU"
    name = match["series"] or match["gpu"]
    if kind == "GPU" and not any(name in gpus for _s, gpus in FAMILIES.values()):
        return None
    if kind != "GPU" and not any(name == s for s, _g in FAMILIES.values()):
        return None
    regions = sku.get("serviceRegions")
    info = sku.get("pricingInfo")
    if not isinstance(regions, list) or not isinstance(info, list) or not info:
        raise FeedError(where, line, f"skus[{n}] has no serviceRegions or pricingInfo")
    expr = info[0].get("pricingExpression") if isinstance(info[0], dict) else None
    tiers = expr.get("tieredRates") if isinstance(expr, dict) else None
    if not isinstance(tiers, list) or not tiers or not isinstance(tiers[0], dict):
        raise FeedError(where, line, f"skus[{n}] has no pricingExpression.tieredRates")
    unit = expr.get("usageUnit") if isinstance(expr, dict) else None
    if unit != _UNITS[kind]:
        skipped.append(
            Skip(sku["description"], f"priced per {unit!r}, not per {_UNITS[kind]!r}", None, line)
        )
        return None
    price = tiers[0].get("unitPrice")  # the first tier, as SkyPilot's builder reads it
    if not isinstance(price, dict):
        raise FeedError(where, line, f"skus[{n}] has a tier without unitPrice")
    units = number(price.get("units", "0"), f"skus[{n}] unitPrice.units", where, line) or 0.0
    nanos = number(price.get("nanos", 0), f"skus[{n}] unitPrice.nanos", where, line) or 0.0
    when = parse_date(info[0].get("effectiveTime"))
    return kind, name, spot, units + nanos / 1e9, [str(r) for r in regions], when


def _priced(
    inst: Instance, rates: dict[tuple[str, str, bool, str], _Rate], skipped: list[Skip]
) -> list[FeedRow]:
    fam = FAMILIES.get(family(inst.name))
    if fam is None:
        return []
    series, gpus = fam
    if inst.vcpus is None or inst.ram_gb is None or not inst.accelerator_count:
        skipped.append(Skip(inst.name, "the catalogued row has no vCPUs, memory or GPU count"))
        return []
    # A SKU bills in many regions; the machine type is offered in fewer: price only the
    # regions the row already has a price for or lists as available.
    offered = {p.region for p in inst.prices} | set(inst.available_regions)
    regions = {k[3] for k in rates if k[0] == "GPU" and k[1] in gpus} & offered
    rows = []
    for region in sorted(regions):
        total = {}
        for spot in (False, True):
            core = rates.get(("Core", series, spot, region))
            ram = rates.get(("Ram", series, spot, region))
            gpu = next((rates[k] for g in gpus if (k := ("GPU", g, spot, region)) in rates), None)
            if core and ram and gpu:
                total[spot] = (core, ram, gpu)
        if False not in total:
            continue
        core, ram, gpu = total[False]
        on_demand = inst.vcpus * core.usd + inst.ram_gb * ram.usd + inst.accelerator_count * gpu.usd
        spot_price = None
        if True in total:
            c, r, g = total[True]
            spot_price = round(
                inst.vcpus * c.usd + inst.ram_gb * r.usd + inst.accelerator_count * g.usd, 6
            )
        rows.append(
            FeedRow(
                instance_type=inst.name,
                region=region,
                line=gpu.line,
                on_demand=round(on_demand, 6),
                spot=spot_price,
                detail=(
                    f"COMPUTED: {inst.vcpus} vCPU x ${core.usd:g} (line {core.line}) + "
                    f"{inst.ram_gb:g} GiB x ${ram.usd:g} (line {ram.line}) + "
                    f"{inst.accelerator_count} GPU x ${gpu.usd:g} (line {gpu.line})"
                ),
            )
        )
    return rows


def _sum(inst: Instance, core: _Rate, ram: _Rate, gpu: _Rate) -> float:
    assert inst.vcpus is not None and inst.ram_gb is not None
    return inst.vcpus * core.usd + inst.ram_gb * ram.usd + inst.accelerator_count * gpu.usd
