"""Instance prices by region and pricing model."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidInputError, NoPriceError, UnknownNameError
from .schema import Instance, RegionPrice

PRICING_MODELS = ("on_demand", "spot", "commit_1y", "commit_3y")
HOURS_PER_MONTH = 730.0  # 8,760 hours / 12


@dataclass(frozen=True)
class Price:
    instance: Instance
    region: str
    pricing: str
    usd_per_hour: float
    row: RegionPrice

    @property
    def usd_per_accelerator_hour(self) -> float:
        return self.usd_per_hour / max(1, self.instance.accelerator_count)


def rate(row: RegionPrice, pricing: str) -> float | None:
    """The $/hour of one pricing model in a price row; None where it is not catalogued."""
    if pricing == "on_demand":
        return row.on_demand_usd_per_hour
    value = getattr(row, f"{pricing}_usd_per_hour")
    return float(value) if value is not None else None


def rates(row: RegionPrice) -> dict[str, float]:
    """Every pricing model catalogued in a price row, on-demand first."""
    out: dict[str, float] = {}
    for key in PRICING_MODELS:
        value = rate(row, key)
        if value is not None:
            out[key] = value
    return out


def price_in_region(inst: Instance, region: str | None = None) -> RegionPrice:
    """The price row for ``region`` (default: the first, a US region).

    A retired size or a SageMaker name has no price: NoPriceError says why, and never
    answers with another instance's price.
    """
    if not inst.prices:
        raise no_price(inst)
    if region is None:
        return inst.prices[0]
    wanted = region.strip().lower()
    for row in inst.prices:
        if row.region.lower() == wanted:
            return row
    priced = [p.region for p in inst.prices]
    hint = ", ".join(priced)
    if wanted in (r.lower() for r in inst.available_regions):
        raise UnknownNameError("priced region", region, priced)
    raise UnknownNameError(
        f"region for {inst.name}",
        region,
        [],
        hint=f"it is offered and priced in: {hint}.",
    )


def get_price(inst: Instance, region: str | None = None, pricing: str = "on_demand") -> Price:
    key = pricing.strip().lower().replace("-", "_")
    if key not in PRICING_MODELS:
        raise InvalidInputError(
            f"Unknown pricing model {pricing!r}.", hint=f"use one of: {', '.join(PRICING_MODELS)}."
        )
    row = price_in_region(inst, region)
    value = rate(row, key)
    if value is None:
        offered = [m for m in rates(row) if m != "on_demand"]
        raise InvalidInputError(
            f"No {key} price catalogued for {inst.name} in {row.region}.",
            hint="use on_demand" + (f" or {', '.join(offered)}." if offered else "."),
        )
    return Price(inst, row.region, key, value, row)


def no_price(inst: Instance) -> NoPriceError:
    """Why ``inst`` has no price, and what can be priced instead."""
    if inst.hardware_of is not None:
        return NoPriceError(
            inst.name,
            f"its service bills its own rates, which are not catalogued; the hardware is "
            f"{inst.provider} {inst.hardware_of}, whose price is not this one.",
            hint=f"see the service's pricing page, or price the instance {inst.hardware_of} "
            "itself (a different product with a different price).",
        )
    if inst.is_retired:
        moves = ", ".join(inst.successors)
        return NoPriceError(
            inst.name,
            f"{inst.provider} retired it on {inst.retired_on}; it cannot be rented any more.",
            hint=(f"its provider points to: {moves}." if moves else None)
            or "pick a current instance.",
        )
    return NoPriceError(inst.name, "no price is catalogued.")
