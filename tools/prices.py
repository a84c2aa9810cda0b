"""What a GPU costs to rent: the catalogued instances with an accelerator, cheapest per GPU-hour.

For "how much does an A100 cost per hour on GCP?" or "what does an 8x H100 node cost per month
on Lambda?", where no workload is sized: each matching instance's price per hour, per GPU-hour
and per month (730 hours), with the date of the price. A card named without its memory or form
factor ("A100") matches every catalogued variant (A100 40GB and 80GB, SXM and PCIe).
"""

from __future__ import annotations

import re

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .pricing import HOURS_PER_MONTH, PRICING_MODELS, no_price, rate
from .result import Quantity, ToolResult, fmt, ref, stale_warnings
from .schema import Instance, RegionPrice

GEO_NAMES = {"us": "the US", "eu": "Europe", "apac": "Asia-Pacific", "other": "other regions"}
_VARIANT_PARTS = re.compile(r"-(?:\d+gb|sxm\d?|pcie|nvl|oam|hgx|mxm)\b")


def accelerator_family(acc_id: str) -> str:
    """'a100-80gb-sxm' -> 'a100', 'h100-sxm' -> 'h100', 'rtx-4090' stays."""
    return _VARIANT_PARTS.sub("", acc_id)


def _unpriced(inst: Instance, cat: Catalog) -> ToolResult:
    """A named instance with no price of its own: retired, or another service's name for an
    EC2 size (SageMaker ``ml.*``). Says why, and what can be priced instead."""
    why = no_price(inst)
    gpus = (
        f"{inst.accelerator_count} x {cat.accelerator(inst.accelerator).name}"
        if inst.accelerator
        else "no accelerator"
    )
    values: dict[str, Quantity] = {}
    refs = [ref("instances", inst)]
    if inst.hardware_of is not None:
        ec2 = cat.instance(inst.provider, inst.hardware_of)
        row = ec2.prices[0]
        values["ec2_usd_per_hour"] = Quantity(
            label=f"EC2 {ec2.name} on-demand ({row.region}), not the SageMaker rate",
            value=row.on_demand_usd_per_hour,
            unit="$/h",
        )
        refs.append(ref("instances", ec2))
        headline = (
            f"{inst.name} ({gpus}) is SageMaker's name for the hardware of EC2 {ec2.name}; "
            f"SageMaker bills its own rates, which are not catalogued. For reference, EC2 "
            f"{ec2.name} itself is {fmt(row.on_demand_usd_per_hour, '$')} per hour on demand "
            f"in {row.region} (as of {row.as_of or ec2.as_of}), not SageMaker's rate."
        )
    else:
        moves = ", ".join(inst.successors)
        headline = (
            f"{inst.name} ({gpus}) was retired by {inst.provider} on {inst.retired_on}: it "
            "cannot be rented any more, so it has no current price"
            + (f"; its provider points to {moves}." if moves else ".")
        )
    return ToolResult(
        tool="gpu_prices",
        headline=headline,
        inputs={"instance": inst.name, "provider": inst.provider},
        values=values,
        assumptions=[why.message],
        refs=refs,
    )


def gpu_prices(
    accelerator: str | None = None,
    *,
    provider: str | None = None,
    providers: list[str] | None = None,
    instance: str | None = None,
    region: str | None = None,
    geography: str | None = None,
    pricing: str = "on_demand",
    num_accelerators: int | None = None,
    top: int = 8,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Catalogued instances with ``accelerator`` (any variant of it when its memory is not
    named), cheapest per accelerator-hour first: $/hour, $/GPU-hour and $/month at 730 h.

    Example: accelerator="a100", provider="gcp": a2-highgpu-1g (1 x A100 40GB) and the a2
    sizes, each in the first catalogued region unless ``region`` is given.
    """
    cat = catalog or load_catalog()
    key = pricing.strip().lower().replace("-", "_")
    if key not in PRICING_MODELS:
        raise InvalidInputError(
            f"Unknown pricing model {pricing!r}.", hint=f"use one of: {', '.join(PRICING_MODELS)}."
        )
    n_top = checks.count("top", top, upper=50)
    want_n = (
        checks.count("num_accelerators", num_accelerators, upper=1024)
        if num_accelerators is not None
        else None
    )
    pool: list[Instance] = [i for i in cat.instances if i.accelerator is not None]
    named_instance: Instance | None = None
    if instance:
        named_instance = cat.instance(provider, instance)
        pool = [named_instance]
        if not named_instance.prices:
            return _unpriced(named_instance, cat)
    elif provider:
        prov = cat.provider_id(provider)
        pool = [i for i in pool if i.provider == prov]
    elif providers:
        wanted = {cat.provider_id(p) for p in providers}
        pool = [i for i in pool if i.provider in wanted]
    family = label = None
    if accelerator and named_instance is None:
        acc = cat.accelerator(accelerator)
        family = accelerator_family(acc.id)
        same = [a for a in cat.accelerators if accelerator_family(a.id) == family]
        # "an A100" is any A100; "A100 80GB" was already resolved to that variant
        exact = acc.id != family and accelerator.strip().lower() != family
        ids = (
            {acc.id}
            if exact and any(i.accelerator == acc.id for i in pool)
            else {a.id for a in same}
        )
        pool = [i for i in pool if i.accelerator in ids]
        label = acc.name if len(ids) == 1 else f"any {family.upper()} variant"
    if accelerator is None and named_instance is None:
        # "the cheapest GPU instance": GPUs, not Inferentia, Trainium or TPU slices
        pool = [i for i in pool if i.accelerator and cat.accelerator(i.accelerator).kind == "gpu"]
    if want_n is not None and named_instance is None:
        sized = [i for i in pool if i.accelerator_count == want_n]
        pool = sized or pool
    geo = (
        checks.choice("geography", geography, ("us", "eu", "apac", "other")) if geography else None
    )
    geo_of = {(r.provider, r.id): r.geography for r in cat.regions}
    warnings: list[str] = []
    if region is not None and named_instance is not None:
        priced = [p.region for p in named_instance.prices]
        if region not in priced:
            warnings.append(
                f"{named_instance.name} has no catalogued price in {region}; priced in: "
                f"{', '.join(priced)}."
            )
            region = None
    rows: list[tuple[float, Instance, RegionPrice, float]] = []
    for inst in pool:
        prices = [p for p in inst.prices if region is None or p.region == region]
        if geo is not None and region is None:
            # "in Europe": each instance at its cheapest priced region there
            prices = sorted(
                (p for p in prices if geo_of.get((inst.provider, p.region)) == geo),
                key=lambda p: rate(p, key) or float("inf"),
            )
        if region is None and named_instance is None:
            prices = prices[:1]  # a named instance is shown in every region it is priced in
        for row in prices:
            if row.price_basis != "on_demand" and named_instance is None:
                continue  # a reservation rate is no rental price
            value = rate(row, key)
            if value is None:
                continue
            rows.append((value / max(1, inst.accelerator_count), inst, row, value))
    if not rows:
        where = " ".join(x for x in (provider, region, geo) if x) or "any catalogued cloud"
        what = label or instance or "a GPU"
        raise InvalidInputError(
            f"No {key.replace('_', ' ')} price catalogued for {what} in {where}.",
            hint="try another provider or region, or on_demand pricing; "
            "the instances catalog lists what is priced.",
        )
    rows.sort(key=lambda r: (r[0], r[1].provider, r[1].name))
    shown = rows[:n_top]
    per_gpu, best, best_row, per_hour = shown[0]
    assert best.accelerator is not None
    acc_name = cat.accelerator(best.accelerator).name
    table = [
        {
            "provider": inst.provider,
            "instance": inst.name,
            "accelerators": f"{inst.accelerator_count} x {cat.accelerator(inst.accelerator).name}"
            if inst.accelerator
            else "",
            "region": row.region,
            "usd_per_hour": round(value, 4),
            "usd_per_gpu_hour": round(gpu_h, 4),
            "usd_per_month": round(value * HOURS_PER_MONTH, 2),
            "as_of": str(row.as_of or inst.as_of),
        }
        for gpu_h, inst, row, value in shown
    ]
    as_of = best_row.as_of or best.as_of
    what = label or (acc_name if accelerator else "GPU instance")
    scope = f" on {best.provider}" if provider or instance else ""
    if geo is not None and region is None:
        scope += f" in {GEO_NAMES.get(geo, geo)}"
    headline = (
        f"Cheapest {key.replace('_', '-')} {what}{scope}: {best.provider} {best.name} "
        f"({best.accelerator_count} x {acc_name}, {best_row.region}) at "
        f"{fmt(per_hour, '$')} per hour, {fmt(per_gpu, '$')} per GPU-hour, about "
        f"{fmt(per_hour * HOURS_PER_MONTH, '$')} per month running all the time (price as of "
        f"{as_of})."
    )
    compared = sorted({inst.provider for _, inst, _, _ in rows}) if providers else []
    if len(compared) > 1:
        # "an H100 on Lambda or on AWS?": the cheapest of each, cheapest first
        best_of: dict[str, tuple[float, Instance, RegionPrice, float]] = {}
        for gpu_h, inst, row, value in rows:
            best_of.setdefault(inst.provider, (gpu_h, inst, row, value))
        parts = [
            f"{p} {inst.name} ({inst.accelerator_count} x, {row.region}) at "
            f"{fmt(gpu_h, '$')} per GPU-hour ({fmt(value, '$')}/h)"
            for p, (gpu_h, inst, row, value) in sorted(best_of.items(), key=lambda kv: kv[1][0])
        ]
        headline = f"Cheapest {key.replace('_', '-')} {what} by provider: " + "; ".join(parts) + "."
    if named_instance is not None:
        headline = (
            f"{best.provider} {best.name} ({best.accelerator_count} x {acc_name}, "
            f"{best_row.region}, {key.replace('_', ' ')}): {fmt(per_hour, '$')} per hour, "
            f"{fmt(per_gpu, '$')} per GPU-hour, about {fmt(per_hour * HOURS_PER_MONTH, '$')} "
            f"per month running all the time (price as of {as_of})."
        )
    values = {
        "usd_per_hour": Quantity(label=f"{best.name} per hour", value=per_hour, unit="$/h"),
        "usd_per_accelerator_hour": Quantity(label="Per GPU-hour", value=per_gpu, unit="$/h"),
        "monthly_usd": Quantity(
            label=f"Per month ({HOURS_PER_MONTH:g} h)", value=per_hour * HOURS_PER_MONTH, unit="$"
        ),
        "options_priced": Quantity(label="Instances priced", value=len(rows)),
    }
    refs = list({inst.name: ref("instances", inst) for _, inst, _, _ in shown}.values())
    return ToolResult(
        tool="gpu_prices",
        headline=headline,
        inputs={
            "accelerator": accelerator,
            "provider": provider,
            "providers": providers,
            "instance": instance,
            "region": region,
            "geography": geo,
            "pricing": key,
            "num_accelerators": want_n,
        },
        values=values,
        formula=[
            "per GPU-hour = instance price per hour / accelerators in the instance",
            f"per month = price per hour x {HOURS_PER_MONTH:g} h (8,760 h / 12)",
        ],
        assumptions=[
            "Linux, shared tenancy, the first catalogued region of each instance unless a "
            "region is named; storage, egress and tax excluded.",
        ],
        refs=refs,
        warnings=warnings + stale_warnings(refs),
        table=table,
    )
