"""On-prem total cost of ownership, break-even against the cloud, energy and emissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError, UnknownNameError
from .pricing import HOURS_PER_MONTH, get_price
from .result import Quantity, ToolResult, fmt, ref, stale_warnings
from .schema import ColocationRate, ElectricityRate, NetworkOption, OnPremServer

IDLE_POWER_FRACTION = 0.30  # share of maximum power a GPU server draws when idle


_R = TypeVar("_R", ElectricityRate, ColocationRate)


def _match_region(kind: str, rows: list[_R], name: str) -> _R:
    key = name.strip().lower()
    for row in rows:
        if key == row.region.lower() or key in (a.lower() for a in row.aliases):
            return row
    raise UnknownNameError(kind, name, [r.region for r in rows])


@dataclass(frozen=True)
class _Monthly:
    capex: float
    network: float
    maintenance: float
    power: float
    colocation: float
    staff: float
    energy_kwh: float

    @property
    def total(self) -> float:
        return (
            self.capex + self.network + self.maintenance + self.power + self.colocation + self.staff
        )


def _monthly(
    server: OnPremServer,
    n: int,
    years: float,
    util: float,
    elec: ElectricityRate,
    colo: ColocationRate | None,
    pue: float,
    net: NetworkOption | None,
    staff_fte: float,
    staff_cost: float,
    maint_pct: float,
) -> _Monthly:
    months = years * 12
    capex = server.price_usd * n
    network = (net.usd_per_node if net else 0.0) * n
    draw_kw = server.power_kw * (IDLE_POWER_FRACTION + (1 - IDLE_POWER_FRACTION) * util)
    energy = draw_kw * pue * HOURS_PER_MONTH * n
    return _Monthly(
        capex=capex / months,
        network=network / months,
        maintenance=(capex + network) * maint_pct / 100 / 12,
        power=energy * elec.usd_per_kwh,
        colocation=(colo.usd_per_kw_month * server.power_kw * n) if colo else 0.0,
        staff=staff_fte * staff_cost / 12,
        energy_kwh=energy,
    )


def onprem_tco(
    server: str = "hgx h100",
    *,
    num_servers: int = 1,
    years: float | None = None,
    utilization: float = 0.7,
    electricity_region: str = "us",
    colocation_region: str | None = "us",
    pue: float | None = None,
    network: str | None = "infiniband",
    staff_fte: float | None = None,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Monthly on-prem TCO and cost per GPU-hour.

    monthly = capex / (years x 12) + network / (years x 12) + maintenance % x capex / 12
              + kWh x $/kWh + colocation $/kW-month x max kW + staff FTE x salary / 12,
    kWh = max kW x (0.3 + 0.7 x utilization) x PUE x 730 h.
    Per used GPU-hour = monthly / (GPUs x 730 x utilization).
    """
    cat = catalog or load_catalog()
    d = cat.onprem.defaults
    srv = cat.server(server)
    n = checks.count("num_servers", num_servers, upper=100_000)
    yrs = checks.positive("years", years if years is not None else d.amortization_years, upper=15)
    util = checks.fraction("utilization", utilization)
    p = checks.positive("pue", pue if pue is not None else d.pue, upper=3)
    if p < 1:
        raise InvalidInputError(f"PUE cannot be below 1.0, got {p:g}.")
    elec = _match_region("electricity region", cat.onprem.electricity, electricity_region)
    colo = (
        _match_region("colocation region", cat.onprem.colocation, colocation_region)
        if colocation_region
        else None
    )
    net = None
    if network:
        key = network.strip().lower()
        matches = [x for x in cat.onprem.network if key in (x.id.lower(), x.fabric)]
        if not matches:
            raise UnknownNameError("network option", network, [x.id for x in cat.onprem.network])
        net = matches[0]
    fte = staff_fte if staff_fte is not None else n / d.nodes_per_fte
    fte = checks.non_negative("staff_fte", fte, upper=10_000)
    m = _monthly(
        srv,
        n,
        yrs,
        util,
        elec,
        colo,
        p,
        net,
        fte,
        d.staff_usd_per_fte_year,
        d.maintenance_pct_per_year,
    )
    gpus = srv.accelerator_count * n
    per_used = m.total / (gpus * HOURS_PER_MONTH * util)
    per_prov = m.total / (gpus * HOURS_PER_MONTH)
    low = _monthly(
        srv.model_copy(update={"price_usd": srv.price_low_usd}),
        n,
        yrs,
        util,
        elec,
        colo,
        d.pue_low,
        net,
        fte,
        d.staff_usd_per_fte_year,
        d.maintenance_pct_per_year,
    ).total
    high = _monthly(
        srv.model_copy(update={"price_usd": srv.price_high_usd}),
        n,
        yrs,
        util,
        elec,
        colo,
        d.pue_high,
        net,
        fte,
        d.staff_usd_per_fte_year,
        d.maintenance_pct_per_year,
    ).total
    values = {
        "monthly_usd": Quantity(label="TCO per month", value=m.total, unit="$", low=low, high=high),
        "capex_usd": Quantity(
            label="Upfront (servers + network)",
            value=srv.price_usd * n + (net.usd_per_node * n if net else 0),
            unit="$",
        ),
        "capex_monthly_usd": Quantity(label="Servers, amortized", value=m.capex, unit="$"),
        "network_monthly_usd": Quantity(label="Network, amortized", value=m.network, unit="$"),
        "maintenance_monthly_usd": Quantity(
            label="Maintenance/support", value=m.maintenance, unit="$"
        ),
        "power_monthly_usd": Quantity(label="Electricity", value=m.power, unit="$"),
        "colocation_monthly_usd": Quantity(label="Colocation", value=m.colocation, unit="$"),
        "staff_monthly_usd": Quantity(label="Staff", value=m.staff, unit="$"),
        "energy_kwh_month": Quantity(label="Energy per month", value=m.energy_kwh, unit="kWh"),
        "usd_per_gpu_hour_used": Quantity(label="Per used GPU-hour", value=per_used, unit="$/h"),
        "usd_per_gpu_hour_provisioned": Quantity(
            label="Per provisioned GPU-hour", value=per_prov, unit="$/h"
        ),
        "total_usd": Quantity(
            label=f"Total over {yrs:g} years", value=m.total * yrs * 12, unit="$"
        ),
    }
    if elec.carbon_g_per_kwh is not None:
        values["co2_tonnes_month"] = Quantity(
            label="Emissions per month",
            value=m.energy_kwh * elec.carbon_g_per_kwh / 1e6,
            unit="t CO2e",
        )
    refs = [ref("onprem", srv), ref("onprem", elec), ref("onprem", d, "defaults")]
    if colo:
        refs.append(ref("onprem", colo))
    if net:
        refs.append(ref("onprem", net))
    return ToolResult(
        tool="onprem_tco",
        headline=(
            f"{n} x {srv.name} ({gpus} GPUs) on-prem: about {fmt(m.total, '$')}/month over "
            f"{yrs:g} years = {fmt(per_used, '$')} per used GPU-hour at {util:.0%} utilization."
        ),
        inputs={
            "server": srv.id,
            "num_servers": n,
            "years": yrs,
            "utilization": util,
            "electricity_region": elec.region,
            "colocation_region": colo.region if colo else None,
            "pue": p,
            "network": net.id if net else None,
            "staff_fte": fte,
        },
        values=values,
        formula=[
            "monthly = capex/(years x 12) + network/(years x 12) + maintenance% x capex/12 + "
            "kWh x $/kWh + colo $/kW-month x max kW + FTE x salary/12",
            f"kWh = max kW x ({IDLE_POWER_FRACTION} + {1 - IDLE_POWER_FRACTION:.1f} x "
            f"utilization) x PUE x {HOURS_PER_MONTH:g}",
            "per used GPU-hour = monthly / (GPUs x 730 x utilization)",
        ],
        assumptions=[
            f"Server price {fmt(srv.price_usd, '$')} (range {fmt(srv.price_low_usd, '$')}-"
            f"{fmt(srv.price_high_usd, '$')}), straight-line over {yrs:g} years, no resale.",
            f"PUE {p:g}; electricity {elec.usd_per_kwh:g} $/kWh ({elec.region}).",
            f"{fte:.2f} FTE at {fmt(d.staff_usd_per_fte_year, '$')}/year.",
            f"Maintenance {d.maintenance_pct_per_year:g}% of capex per year.",
            "Colocation billed per kW of maximum server power"
            if colo
            else "Own facility: no colocation fee.",
        ],
        refs=refs,
        warnings=stale_warnings([r for r in refs if r.row != "defaults"]),
    )


def break_even(
    server: str = "hgx h100",
    provider: str = "aws",
    instance: str = "p5.48xlarge",
    *,
    region: str | None = None,
    pricing: str = "on_demand",
    num_servers: int = 1,
    utilization: float = 0.7,
    years: float | None = None,
    electricity_region: str = "us",
    colocation_region: str | None = "us",
    network: str | None = "infiniband",
    catalog: Catalog | None = None,
) -> ToolResult:
    """Break-even of buying vs renting the same number of GPUs.

    Cloud cost per month at utilization u = GPUs x 730 x u x cloud $/GPU-hour (pay only for
    use). Break-even utilization: the u at which cloud equals on-prem monthly TCO. Break-even
    months: upfront capex / (cloud monthly - on-prem monthly opex).
    """
    cat = catalog or load_catalog()
    tco = onprem_tco(
        server,
        num_servers=num_servers,
        years=years,
        utilization=utilization,
        electricity_region=electricity_region,
        colocation_region=colocation_region,
        network=network,
        catalog=cat,
    )
    inst = cat.instance(provider, instance)
    price = get_price(inst, region, pricing)
    srv = cat.server(server)
    gpus = srv.accelerator_count * num_servers
    cloud_gpu_h = price.usd_per_accelerator_hour
    if inst.accelerator != srv.accelerator:
        warn = [f"Comparing {srv.accelerator} on-prem with {inst.accelerator} in the cloud."]
    else:
        warn = []

    def onprem_monthly(u: float) -> float:
        return onprem_tco(
            server,
            num_servers=num_servers,
            years=years,
            utilization=u,
            electricity_region=electricity_region,
            colocation_region=colocation_region,
            network=network,
            catalog=cat,
        )["monthly_usd"]

    def cloud_monthly(u: float) -> float:
        return gpus * HOURS_PER_MONTH * u * cloud_gpu_h

    # Bisection on u in (0, 1]: cloud(u) - onprem(u) is increasing in u.
    lo, hi = 1e-4, 1.0
    if cloud_monthly(hi) < onprem_monthly(hi):
        be_util = None
    else:
        for _ in range(50):
            mid = (lo + hi) / 2
            if cloud_monthly(mid) < onprem_monthly(mid):
                lo = mid
            else:
                hi = mid
        be_util = hi
    cloud_m = cloud_monthly(utilization)
    capex = tco["capex_usd"]
    opex = tco["monthly_usd"] - tco["capex_monthly_usd"] - tco["network_monthly_usd"]
    be_months = capex / (cloud_m - opex) if cloud_m > opex else None
    yrs = tco.inputs["years"]
    series = []
    for month in range(0, int(yrs * 12) + 1, 3):
        series.append(
            {"month": month, "cloud_usd": cloud_m * month, "onprem_usd": capex + opex * month}
        )
    values = {
        "cloud_usd_per_gpu_hour": Quantity(
            label=f"Cloud {price.pricing} per GPU-hour", value=cloud_gpu_h, unit="$/h"
        ),
        "onprem_usd_per_gpu_hour": Quantity(
            label="On-prem per used GPU-hour", value=tco["usd_per_gpu_hour_used"], unit="$/h"
        ),
        "cloud_monthly_usd": Quantity(
            label="Cloud per month at this utilization", value=cloud_m, unit="$"
        ),
        "onprem_monthly_usd": Quantity(
            label="On-prem TCO per month", value=tco["monthly_usd"], unit="$"
        ),
        "break_even_utilization": Quantity(
            label="Break-even utilization",
            value=be_util if be_util is not None else "never (cloud cheaper even at 100%)",
        ),
        "break_even_months": Quantity(
            label="Months until buying has paid off",
            value=be_months if be_months is not None else "never at this utilization",
            unit="months" if be_months is not None else "",
        ),
    }
    if be_util is None:
        verdict = "renting stays cheaper even at 100% utilization"
    elif utilization >= be_util:
        verdict = f"buying wins above {be_util:.0%} utilization (you plan {utilization:.0%})"
    else:
        verdict = f"renting wins below {be_util:.0%} utilization (you plan {utilization:.0%})"
    refs = tco.refs + [ref("instances", inst)]
    return ToolResult(
        tool="break_even",
        headline=(
            f"{num_servers} x {srv.name} vs {inst.provider} {inst.name} ({price.pricing}): "
            f"{verdict}"
            + (f"; payback in {be_months:.1f} months." if be_months is not None else ".")
        ),
        inputs={
            **tco.inputs,
            "provider": inst.provider,
            "instance": inst.name,
            "region": price.region,
            "pricing": price.pricing,
        },
        values=values,
        formula=[
            "cloud monthly = GPUs x 730 x utilization x cloud $/GPU-hour",
            "break-even utilization: cloud monthly(u) = on-prem TCO monthly(u)",
            "break-even months = upfront capex / (cloud monthly - on-prem monthly opex)",
        ],
        assumptions=tco.assumptions + ["Cloud capacity is paid only for the hours used."],
        refs=refs,
        warnings=warn + stale_warnings(refs),
        table=series,
    )


def energy_estimate(
    accelerator_hours: float,
    accelerator: str = "h100",
    *,
    pue: float | None = None,
    region: str = "us",
    utilization_power_fraction: float = 0.8,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Energy (kWh) and emissions of a job: hours x TDP x power fraction x PUE (+ host share)."""
    cat = catalog or load_catalog()
    acc = cat.accelerator(accelerator)
    hours = checks.positive("accelerator_hours", accelerator_hours, upper=1e10)
    frac = checks.fraction("utilization_power_fraction", utilization_power_fraction)
    p = checks.positive("pue", pue if pue is not None else cat.onprem.defaults.pue, upper=3)
    elec = _match_region("electricity region", cat.onprem.electricity, region)
    host_factor = 1.5  # CPUs, memory, NICs, fans: a DGX H100 draws 10.2 kW for 8 x 700 W GPUs
    if acc.tdp_w is None:
        raise InvalidInputError(
            f"{acc.name} has no published TDP, so its energy cannot be estimated.",
            hint="name a similar accelerator whose TDP is published.",
        )
    kwh = hours * acc.tdp_w / 1000 * frac * host_factor * p
    values = {
        "energy_kwh": Quantity(
            label="Energy", value=kwh, unit="kWh", low=kwh * 0.7, high=kwh * 1.3
        ),
        "energy_cost_usd": Quantity(
            label="Electricity cost", value=kwh * elec.usd_per_kwh, unit="$"
        ),
    }
    if elec.carbon_g_per_kwh is not None:
        values["co2_tonnes"] = Quantity(
            label="Emissions", value=kwh * elec.carbon_g_per_kwh / 1e6, unit="t CO2e"
        )
    return ToolResult(
        tool="energy_estimate",
        headline=f"{fmt(hours, '')} {acc.name}-hours use about {fmt(kwh, 'kWh')}"
        + (
            f" and emit {fmt(values['co2_tonnes'].value, 't CO2e')} ({elec.region} grid)."
            if "co2_tonnes" in values
            else "."
        ),
        inputs={"accelerator_hours": hours, "accelerator": acc.id, "pue": p, "region": elec.region},
        values=values,
        formula=[f"kWh = hours x {acc.tdp_w:g} W x {frac:g} x {host_factor} (host) x PUE {p:g}"],
        assumptions=[
            "Accelerators draw 80% of TDP on average during the job.",
            "Host overhead factor 1.5 (DGX H100: 10.2 kW system for 5.6 kW of GPUs).",
        ],
        refs=[ref("accelerators", acc), ref("onprem", elec)],
    )
