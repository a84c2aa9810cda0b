"""Cloud cost: jobs, steady serving, cost per million tokens, and ranked placements."""

from __future__ import annotations

import math
from typing import Any

from . import checks
from .catalog import Catalog, load_catalog
from .errors import AdvisorError, InvalidInputError
from .models import ModelRef, normalize_dtype, resolve_model
from .prices import accelerator_family
from .pricing import HOURS_PER_MONTH, PRICING_MODELS, get_price, rates
from .result import Quantity, ToolResult, fmt, ref, stale_warnings
from .schema import Instance, RegionPrice
from .serving import best_throughput
from .training import DEFAULT_MFU, _peak_tflops, training_flops


def job_cost(
    provider: str,
    instance: str,
    *,
    accelerator_hours: float | None = None,
    instance_hours: float | None = None,
    months: float | None = None,
    num_instances: int = 1,
    region: str | None = None,
    pricing: str = "on_demand",
    catalog: Catalog | None = None,
) -> ToolResult:
    """Cost of a job (``accelerator_hours`` or ``instance_hours``) or of steady serving
    (``num_instances`` running for ``months`` at 730 h/month) on a cloud instance.

    Example: 1,000 H100-hours on AWS p5.48xlarge (8 GPUs) = 125 instance-hours x $/hour.
    All pricing models catalogued for the region are shown side by side.
    """
    cat = catalog or load_catalog()
    inst = cat.instance(provider, instance)
    given = [x is not None for x in (accelerator_hours, instance_hours, months)]
    if sum(given) != 1:
        raise InvalidInputError(
            "Give exactly one of accelerator_hours, instance_hours or months.",
            hint="accelerator_hours for a training job, months for steady serving.",
        )
    n = checks.count("num_instances", num_instances, upper=100_000)
    price = get_price(inst, region, pricing)
    if accelerator_hours is not None:
        acc_h = checks.positive("accelerator_hours", accelerator_hours, upper=1e10)
        if inst.accelerator_count == 0:
            raise InvalidInputError(f"{inst.name} has no accelerators; pass instance_hours.")
        hours = acc_h / inst.accelerator_count
        basis = f"{fmt(acc_h, '')} accelerator-hours / {inst.accelerator_count} per instance"
    elif instance_hours is not None:
        hours = checks.positive("instance_hours", instance_hours, upper=1e9) * n
        basis = f"{fmt(hours, '')} instance-hours"
    else:
        m = checks.positive("months", months or 0, upper=600)
        hours = HOURS_PER_MONTH * m * n
        basis = f"{n} instance(s) x {HOURS_PER_MONTH:g} h/month x {m:g} months"
    cost = hours * price.usd_per_hour
    values = {
        "instance_hours": Quantity(label="Instance-hours", value=hours, unit="h"),
        "usd_per_hour": Quantity(
            label=f"{inst.name} {price.pricing} price", value=price.usd_per_hour, unit="$/h"
        ),
        "usd_per_accelerator_hour": Quantity(
            label="Per accelerator-hour", value=price.usd_per_accelerator_hour, unit="$/h"
        ),
        "cost_usd": Quantity(label="Cost", value=cost, unit="$"),
    }
    if months is not None:
        values["monthly_usd"] = Quantity(label="Per month", value=cost / months, unit="$")
    table = [
        {"pricing": k, "usd_per_hour": v, "cost_usd": hours * v}
        for k, v in rates(price.row).items()
    ]
    refs = [ref("instances", inst)]
    warnings = stale_warnings(refs)
    if price.row.price_basis != "on_demand":
        warnings.append(
            f"{inst.name} has no public on-demand price in {price.region}; the figure is a "
            f"{price.row.price_basis.replace('_', ' ')} reservation rate."
        )
    if pricing == "spot":
        warnings.append("Spot capacity can be reclaimed at short notice: checkpoint often.")
    return ToolResult(
        tool="job_cost",
        headline=(
            f"{basis} on {inst.provider} {inst.name} ({price.region}, {price.pricing}): "
            f"{fmt(cost, '$')}."
        ),
        inputs={
            "provider": inst.provider,
            "instance": inst.name,
            "region": price.region,
            "pricing": price.pricing,
            "accelerator_hours": accelerator_hours,
            "instance_hours": instance_hours,
            "months": months,
            "num_instances": n,
        },
        values=values,
        formula=["cost = instance-hours x price per instance-hour"],
        assumptions=[f"{HOURS_PER_MONTH:g} hours per month.", "Excludes storage, egress and tax."],
        refs=refs,
        warnings=warnings,
        table=table,
    )


def cost_per_million_tokens(
    provider: str,
    instance: str,
    *,
    tokens_per_s: float | None = None,
    model: ModelRef | None = None,
    dtype: str = "bf16",
    prompt_tokens: int = 1000,
    output_tokens: int = 250,
    utilization: float = 1.0,
    region: str | None = None,
    pricing: str = "on_demand",
    catalog: Catalog | None = None,
) -> ToolResult:
    """$ per million output tokens = price per hour / (tokens/s x 3600 x utilization) x 1e6.

    Give ``tokens_per_s`` (measured) or a ``model`` to estimate it with the serving roofline.
    Example: $10/h at 2,000 tok/s fully used = 10 / 7.2e6 x 1e6 = $1.39 per million tokens.
    """
    cat = catalog or load_catalog()
    inst = cat.instance(provider, instance)
    price = get_price(inst, region, pricing)
    util = checks.fraction("utilization", utilization)
    refs = [ref("instances", inst)]
    assumptions = [f"Utilization {util:.0%} of the hours paid for."]
    warnings: list[str] = []
    if tokens_per_s is not None:
        tps = checks.positive("tokens_per_s", tokens_per_s, upper=1e9)
        assumptions.append("Throughput given by the caller.")
    elif model is not None:
        if inst.accelerator is None:
            raise InvalidInputError(f"{inst.name} has no accelerator; pass tokens_per_s measured.")
        resolved = resolve_model(model, cat)
        spec = resolved.spec
        dt = normalize_dtype(dtype)
        acc = cat.accelerator(inst.accelerator)
        layout = best_throughput(
            spec,
            acc,
            count=inst.accelerator_count,
            dtype=dt,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
        )
        if layout is None:
            raise InvalidInputError(
                f"{spec.name} in {dt} does not fit on {inst.name}.",
                hint="quantize or pick an instance with more accelerator memory.",
            )
        tp, rl = layout
        replicas = inst.accelerator_count // tp
        tps = rl.tokens_per_s * replicas
        refs = [*resolved.refs, ref("accelerators", acc), *refs]
        warnings += resolved.warnings
        assumptions.append(
            f"Throughput estimated: {replicas} replica(s) of TP={tp} at batch {rl.batch}, "
            f"{fmt(rl.tokens_per_s, 'tok/s')} each (serving roofline)."
        )
    else:
        raise InvalidInputError("Give tokens_per_s or a model.", hint="e.g. model='llama 3.1 8b'.")
    usd = price.usd_per_hour / (tps * 3600 * util) * 1e6
    warnings += stale_warnings(refs)
    return ToolResult(
        tool="cost_per_million_tokens",
        headline=(
            f"{fmt(usd, '$')} per million output tokens on {inst.provider} {inst.name} "
            f"({price.pricing}, {fmt(price.usd_per_hour, '$/h')}, {fmt(tps, 'tok/s')}, "
            f"{util:.0%} utilized)."
        ),
        inputs={
            "provider": inst.provider,
            "instance": inst.name,
            "region": price.region,
            "pricing": price.pricing,
            "tokens_per_s": tps,
            "utilization": util,
        },
        values={
            "usd_per_million_tokens": Quantity(
                label="Cost per million output tokens",
                value=usd,
                unit="$",
                low=usd / 1.4,
                high=usd * 1.5,
            ),
            "tokens_per_s": Quantity(label="Output tokens/s per instance", value=tps, unit="tok/s"),
            "usd_per_hour": Quantity(label="Instance price", value=price.usd_per_hour, unit="$/h"),
        },
        formula=["$/M tokens = price per hour / (tokens/s x 3600 x utilization) x 1e6"],
        assumptions=assumptions,
        refs=refs,
        warnings=warnings,
    )


def _region_rows(
    inst: Instance, geography: str | None, region: str | None, cat: Catalog
) -> list[RegionPrice]:
    if region:
        return [p for p in inst.prices if p.region == region]
    if geography:
        geo = {r.id: r.geography for r in cat.regions if r.provider == inst.provider}
        return [p for p in inst.prices if geo.get(p.region) == geography]
    return inst.prices[:1]


def compare_options(
    model: ModelRef,
    *,
    workload: str = "inference",
    tokens: float | None = None,
    dtype: str = "bf16",
    context_tokens: int = 4096,
    output_tokens: int = 250,
    providers: list[str] | None = None,
    geography: str | None = None,
    region: str | None = None,
    pricing: str = "on_demand",
    target_tokens_per_s: float | None = None,
    mfu: float = DEFAULT_MFU,
    top: int = 10,
    include_reservations: bool = False,
    accelerators: list[str] | None = None,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Rank cloud placements for a workload by cost, saying why each option fits or not.

    ``accelerators`` keeps only instances with those cards ("L4 or A10G?"); a card named
    without its memory or form factor keeps every variant of it.

    inference: each instance is checked for memory (tensor parallel within the instance);
    ranked by $ per million output tokens (or monthly cost for ``target_tokens_per_s``).
    training: needs ``tokens``; ranked by job cost = 6 N D / (peak x MFU) x $/accelerator-hour.
    Prices that are reservation rates (no public on-demand price, e.g. AWS Capacity Blocks)
    are left out unless ``include_reservations``.
    """
    cat = catalog or load_catalog()
    resolved = resolve_model(model, cat)
    spec = resolved.spec
    workload = checks.choice("workload", workload, ("inference", "training"))
    dt = normalize_dtype(dtype)
    if pricing not in PRICING_MODELS:
        raise InvalidInputError(
            f"Unknown pricing {pricing!r}.", hint=f"use one of: {', '.join(PRICING_MODELS)}."
        )
    if geography is not None:
        geography = checks.choice("geography", geography, ("us", "eu", "apac", "other"))
    top = checks.count("top", top, upper=1000)
    ctx = checks.count("context_tokens", context_tokens, upper=10_000_000)
    if workload == "training":
        if tokens is None:
            raise InvalidInputError("Training comparison needs tokens.", hint="e.g. tokens=2e9.")
        d = checks.positive("tokens", tokens, upper=1e15)
        flops = training_flops(spec, d)
    wanted = {p.lower() for p in providers} if providers else None
    cards: set[str] | None = None
    if accelerators:
        cards = {accelerator_family(cat.accelerator(a).id) for a in accelerators}
    rows: list[dict[str, Any]] = []
    refs = list(resolved.refs)
    for inst in cat.instances:
        if inst.accelerator is None or (wanted and inst.provider not in wanted):
            continue
        if cards is not None and accelerator_family(inst.accelerator) not in cards:
            continue
        acc = cat.accelerator(inst.accelerator)
        for price_row in _region_rows(inst, geography, region, cat):
            prices = rates(price_row)
            if pricing not in prices or (
                price_row.price_basis != "on_demand" and not include_reservations
            ):
                continue
            usd_h = prices[pricing]
            row: dict[str, Any] = {
                "provider": inst.provider,
                "instance": inst.name,
                "region": price_row.region,
                "accelerators": f"{inst.accelerator_count} x {acc.name}",
                "usd_per_hour": usd_h,
            }
            if workload == "inference":
                layout = best_throughput(
                    spec,
                    acc,
                    count=inst.accelerator_count,
                    dtype=dt,
                    prompt_tokens=max(1, ctx - output_tokens),
                    output_tokens=output_tokens,
                )
                if layout is None:
                    row.update(
                        fits=False,
                        why=f"needs more than {inst.accelerator_count} x {acc.memory_gb:g} GB",
                        metric=math.inf,
                    )
                else:
                    tp, rl = layout
                    tps = rl.tokens_per_s * (inst.accelerator_count // tp)
                    row.update(
                        fits=True,
                        why=f"TP={tp}, {inst.accelerator_count // tp} "
                        f"replica(s), ~{fmt(tps, 'tok/s')}",
                        tokens_per_s=tps,
                        usd_per_m_tokens=usd_h / (tps * 3600) * 1e6,
                    )
                    if target_tokens_per_s:
                        k = math.ceil(target_tokens_per_s / tps)
                        row["instances"] = k
                        row["monthly_usd"] = k * usd_h * HOURS_PER_MONTH
                        row["metric"] = row["monthly_usd"]
                    else:
                        row["metric"] = row["usd_per_m_tokens"]
            else:
                try:
                    peak = _peak_tflops(acc, dt) * 1e12
                except AdvisorError:
                    continue
                acc_h = flops / (peak * mfu) / 3600
                cost = acc_h / inst.accelerator_count * usd_h
                row.update(
                    fits=True,
                    why=f"{fmt(acc_h, '')} {acc.name}-hours at {mfu:.0%} MFU",
                    job_usd=cost,
                    metric=cost,
                    days_on_one_instance=acc_h / inst.accelerator_count / 24,
                )
            rows.append(row)
        refs.append(ref("instances", inst))
    if not rows:
        raise InvalidInputError(
            "No catalogued instance matches these filters.",
            hint="drop the provider/region/geography filter or use pricing='on_demand'.",
        )
    rows.sort(key=lambda r: (not r["fits"], r["metric"]))
    best = next((r for r in rows if r["fits"]), None)
    metric_name = (
        ("monthly_usd" if target_tokens_per_s else "usd_per_m_tokens")
        if (workload == "inference")
        else "job_usd"
    )
    if best is None:
        headline = f"No catalogued instance fits {spec.name} in {dt}; quantize or use more GPUs."
    else:
        headline = (
            f"Cheapest for {workload} of {spec.name} ({dt}, {pricing}): {best['provider']} "
            f"{best['instance']} in {best['region']} at {fmt(best['metric'], '$')}"
            + (
                " per million tokens"
                if metric_name == "usd_per_m_tokens"
                else " per month"
                if metric_name == "monthly_usd"
                else " for the job"
            )
            + "."
        )
    shown = rows[:top]
    for r in shown:
        r.pop("metric", None)
    used_refs = [
        x for x in refs if x.catalog != "instances" or any(r["instance"] == x.row for r in shown)
    ]
    return ToolResult(
        tool="compare_options",
        headline=headline,
        inputs={
            "model": spec.name,
            "workload": workload,
            "tokens": tokens,
            "dtype": dt,
            "context_tokens": ctx,
            "providers": providers,
            "geography": geography,
            "region": region,
            "pricing": pricing,
            "target_tokens_per_s": target_tokens_per_s,
        },
        values={
            "options_considered": Quantity(label="Options considered", value=len(rows)),
            "options_fitting": Quantity(
                label="Options that fit", value=sum(1 for r in rows if r["fits"])
            ),
        },
        formula=[
            "inference: $/M tokens = $/h / (tok/s x 3600) x 1e6",
            "training: cost = 6 N D / (peak x MFU x 3600) / accelerators x $/h",
        ],
        assumptions=[
            *resolved.assumptions,
            "Each option's first catalogued region unless region/geography is given.",
        ],
        refs=used_refs,
        warnings=resolved.warnings + stale_warnings(used_refs)[:3],
        table=shown,
    )
