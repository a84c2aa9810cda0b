"""Azure Retail Prices API pages (``prices.azure.com/api/retail/prices``) as feed rows.

Each page is ``{"BillingCurrency": "USD", "Items": [...], "NextPageLink": ...}``; an item
is one meter: ``armSkuName``, ``armRegionName``, ``retailPrice``, ``unitOfMeasure``,
``type``, ``serviceName``, ``productName``, ``skuName``, ``currencyCode``. Read: Virtual
Machines, USD, ``type`` Consumption, ``unitOfMeasure`` "1 Hour", Linux (a product name
without "Windows"). A ``skuName`` ending in "Spot" is the spot price; "Low Priority" (retired)
is left out. Reservation meters price the whole term, not the hour, and are not read. The
API gives no vCPUs, memory or GPUs, so it can refresh catalogued sizes but not add new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from .errors import FeedError
from .feeds import Context, Feed, FeedRow, Skip, number
from .jsonstream import JsonStream

URL = "https://prices.azure.com/api/retail/prices"
REQUIRED = ("armRegionName", "retailPrice", "unitOfMeasure", "type", "serviceName", "skuName")
NEW_ROW_BLOCKER = "the Retail Prices API gives no vCPUs, memory or GPU count for a new size"


@dataclass
class _Meter:
    line: int
    on_demand: float | None = None
    spot: float | None = None
    primary: bool = False


@dataclass
class Pages:
    """What the pages read so far hold; one :class:`Pages` gathers several pages."""

    meters: dict[tuple[str, str], _Meter]
    records: int = 0
    next_link: str | None = None


def read_page(fh: TextIO, where: str, pages: Pages) -> None:
    """Add one page's meters to ``pages`` (and remember its NextPageLink)."""
    js = JsonStream(fh, where)
    seen_items = False
    pages.next_link = None
    for key, line in js.members():
        if key == "Items":
            seen_items = True
            for n, item_line in enumerate(js.elements()):
                pages.records += 1
                _meter(js.value(), n, item_line, where, pages)
        elif key == "NextPageLink":
            link = js.value()
            pages.next_link = link if isinstance(link, str) and link else None
        elif key == "BillingCurrency":
            currency = js.value()
            if currency != "USD":
                raise FeedError(where, line, f"prices in {currency!r}; the catalog is USD")
        else:
            js.value()
    js.end()
    if not seen_items:
        raise FeedError(where, 1, "not an Azure Retail Prices page: no 'Items' array")


def _meter(item: Any, n: int, line: int, where: str, pages: Pages) -> None:
    if not isinstance(item, dict):
        raise FeedError(where, line, f"Items[{n}] is not an object")
    missing = [k for k in REQUIRED if k not in item]
    if missing:
        raise FeedError(where, line, f"Items[{n}] has no {', '.join(missing)}")
    price = number(item["retailPrice"], f"Items[{n}].retailPrice", where, line)
    if item.get("currencyCode", "USD") != "USD":
        raise FeedError(where, line, f"Items[{n}] is priced in {item['currencyCode']!r}, not USD")
    sku = item.get("armSkuName") or ""
    product = str(item.get("productName", ""))
    sku_name = str(item["skuName"])
    if (
        item["serviceName"] != "Virtual Machines"
        or item["type"] != "Consumption"
        or item["unitOfMeasure"] != "1 Hour"
        or "Windows" in product
        or sku_name.endswith("Low Priority")
        or not sku
        or not price
    ):
        return
    key = (sku, str(item["armRegionName"]))
    meter = pages.meters.setdefault(key, _Meter(line=line))
    primary = bool(item.get("isPrimaryMeterRegion", True))
    if sku_name.endswith("Spot"):
        meter.spot = price if meter.spot is None else min(meter.spot, price)
    elif meter.on_demand is None or (primary and not meter.primary):
        meter.on_demand, meter.primary, meter.line = price, primary, line
    elif primary == meter.primary:
        meter.on_demand = min(meter.on_demand, price)


def feed(where: str, pages: Pages, ctx: Context, *, url: str | None = None) -> Feed:
    rows, skipped = [], []
    for (sku, region), meter in pages.meters.items():
        if meter.on_demand is None:
            skipped.append(Skip(sku, "a spot price without an on-demand price", region, meter.line))
            continue
        spot = meter.spot
        rows.append(
            FeedRow(
                instance_type=sku,
                region=region,
                line=meter.line,
                on_demand=meter.on_demand,
                spot=spot,
                blocker=NEW_ROW_BLOCKER,
            )
        )
    notes = [
        "The API's prices carry no check date: pass --as-of with the date the pages were "
        "fetched (default today). Reservation meters (whole-term prices) are not read."
    ]
    if pages.next_link:
        notes.append(
            f"The last page read has a NextPageLink ({pages.next_link}): pass the "
            "next pages too, or the rows on them are reported as removed."
        )
    return Feed(
        source="azure",
        provider=ctx.provider,
        where=where,
        title="Azure Retail Prices API (Virtual Machines, Linux, Consumption and Spot meters)",
        url=url or URL,
        as_of=None,
        as_of_from="",
        rows=rows,
        records=pages.records,
        skipped=skipped,
        notes=notes,
    )
