"""The AWS Price List EC2 offer file (``AmazonEC2/current/[region/]index.json``) as feed rows.

The file is one JSON object: ``products`` (SKU -> attributes: ``instanceType``,
``regionCode``/``location``, ``operatingSystem``, ``tenancy``, ``preInstalledSw``,
``capacitystatus``, ``vcpu``, ``memory``, ``gpu``, ``storage``...) and ``terms``
(``OnDemand`` and ``Reserved``: SKU -> offer term -> ``priceDimensions`` -> ``pricePerUnit.USD``
per ``Hrs``). Only Linux, shared tenancy, no pre-installed software, capacity status ``Used``
(the plain on-demand instance-hour) is read. A 1- or 3-year Standard Reserved Instance with
no upfront payment is the catalog's ``commit_1y``/``commit_3y``. The offer file has no spot
prices. It is read member by member (:mod:`.jsonstream`): the whole-region files are
hundreds of megabytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, TextIO

from .feeds import Context, Feed, FeedRow, cheaper, number, parse_date, whole
from .jsonstream import JsonStream

URL = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/index.json"
_FAMILIES = {"Compute Instance", "Compute Instance (bare metal)"}
_WANTED = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
}
_RESERVED = {("1yr", "standard", "No Upfront"): "1y", ("3yr", "standard", "No Upfront"): "3y"}
_STORAGE = re.compile(r"(\d+)\s*x\s*([\d,.]+)\s*(NVMe SSD|NVMe|SSD|HDD)?", re.I)
_MEMORY = re.compile(r"([\d,.]+)\s*GiB", re.I)


@dataclass
class _Product:
    instance_type: str
    region: str
    line: int
    attrs: dict[str, Any]


def read(fh: TextIO, where: str, ctx: Context) -> Feed:
    js = JsonStream(fh, where)
    products: dict[str, _Product] = {}
    on_demand: dict[str, tuple[float, int]] = {}
    reserved: dict[str, dict[str, float]] = {}
    seen_products = False
    meta: dict[str, Any] = {}
    records = 0
    for key, _line in js.members():
        if key == "products":
            seen_products = True
            for sku, pline in js.members():
                records += 1
                product = _product(js, js.value(), sku, pline, ctx)
                if product is not None:
                    products[sku] = product
        elif key == "terms":
            for kind, _ in js.members():
                for sku, tline in js.members():
                    terms = js.value()
                    if kind not in ("OnDemand", "Reserved") or (
                        seen_products and sku not in products
                    ):
                        continue
                    if not isinstance(terms, dict):
                        raise js.error(f"terms.{kind}.{sku}: expected an object", tline)
                    if kind == "OnDemand":
                        price = _hourly(js, terms, f"terms.OnDemand[{sku}]", tline, None)
                        if price is not None:
                            on_demand[sku] = (price, tline)
                    else:
                        for term, price in _reserved(js, terms, sku, tline).items():
                            reserved.setdefault(sku, {})[term] = price
        else:
            meta[key] = js.value()
    js.end()
    if not seen_products:
        raise js.error("not an AWS Price List offer file: no 'products' object", 1)
    if meta.get("offerCode", "AmazonEC2") != "AmazonEC2":
        raise js.error(f"an offer file for {meta['offerCode']!r}, not AmazonEC2", 1)
    published = parse_date(meta.get("publicationDate"))
    feed = Feed(
        source="aws",
        provider="aws",
        where=where,
        title=(
            "AWS Price List EC2 offer file (Linux, shared tenancy, on-demand and Standard "
            f"no-upfront Reserved), publicationDate {published or 'not given'}"
        ),
        url=where if where.startswith(("http://", "https://")) else URL,
        as_of=published,
        as_of_from="the offer file's publicationDate" if published else "",
        rows=[],
        records=records,
        notes=["The offer file has no spot prices: catalogued spot figures are kept."],
    )
    merged: dict[tuple[str, str], FeedRow] = {}
    for sku, product in products.items():
        if sku not in on_demand:
            continue
        price, _tline = on_demand[sku]
        commits = reserved.get(sku, {})
        row = _row(product, price, commits.get("1y"), commits.get("3y"), where, ctx)
        at = (row.instance_type, row.region)
        old = merged.get(at)
        if old is not None:  # two SKUs for one type and region: keep the cheaper figures
            row = replace(
                old,
                on_demand=cheaper(old.on_demand, row.on_demand),
                commit_1y=cheaper(old.commit_1y, row.commit_1y),
                commit_3y=cheaper(old.commit_3y, row.commit_3y),
            )
        merged[at] = row
    feed.rows = list(merged.values())
    return feed


def _product(js: JsonStream, product: Any, sku: str, line: int, ctx: Context) -> _Product | None:
    if not isinstance(product, dict) or not isinstance(product.get("attributes", {}), dict):
        raise js.error(f"products.{sku}: expected an object with 'attributes'", line)
    if product.get("productFamily") not in _FAMILIES:
        return None
    attrs = product.get("attributes", {})
    if any(attrs.get(k) != v for k, v in _WANTED.items()):
        return None
    if attrs.get("marketoption", "OnDemand") != "OnDemand":
        return None
    itype = attrs.get("instanceType")
    if not isinstance(itype, str) or not itype:
        raise js.error(f"products.{sku}: a compute instance without 'instanceType'", line)
    region = attrs.get("regionCode") or _region_by_name(ctx, attrs.get("location"))
    if not isinstance(region, str) or not region:
        raise js.error(f"products.{sku}: no 'regionCode' or 'location'", line)
    return _Product(itype, region, line, attrs)


def _region_by_name(ctx: Context, location: object) -> str | None:
    """Older offer files have only ``location`` ("US East (N. Virginia)")."""
    for region in ctx.regions:
        if region.name == location:
            return region.id
    return location if isinstance(location, str) else None


def _hourly(
    js: JsonStream, terms: dict[str, Any], what: str, line: int, want: tuple[str, ...] | None
) -> float | None:
    """The USD per hour of the first offer term (matching ``want``'s term attributes)."""
    for code, term in terms.items():
        if not isinstance(term, dict) or not isinstance(term.get("priceDimensions"), dict):
            raise js.error(
                f"{what}, term {code}: expected an offer term with 'priceDimensions'", line
            )
        if want is not None:
            attrs = term.get("termAttributes") or {}
            got = tuple(attrs.get(k) for k in ("LeaseContractLength", "OfferingClass"))
            if got + (attrs.get("PurchaseOption"),) != want:
                continue
        for dim in term["priceDimensions"].values():
            if not isinstance(dim, dict):
                raise js.error(f"{what}, term {code}: a price dimension is not an object", line)
            if dim.get("unit") != "Hrs":
                continue
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if usd is None:
                raise js.error(
                    f"{what}, term {code}: a price dimension without pricePerUnit.USD", line
                )
            price = number(usd, f"{what}, term {code}, pricePerUnit.USD", js.where, line)
            return price or None  # $0 rows (hosts, reservations) carry no hourly price
    return None


def _reserved(js: JsonStream, terms: dict[str, Any], sku: str, line: int) -> dict[str, float]:
    found = {}
    for want, term in _RESERVED.items():
        price = _hourly(js, terms, f"terms.Reserved[{sku}]", line, want)
        if price is not None:
            found[term] = price
    return found


def _row(
    product: _Product,
    price: float,
    commit_1y: float | None,
    commit_3y: float | None,
    where: str,
    ctx: Context,
) -> FeedRow:
    attrs, line = product.attrs, product.line
    vcpus = whole(number(attrs.get("vcpu"), "attributes.vcpu", where, line))
    memory = _MEMORY.match(str(attrs.get("memory", "")))
    ram = (
        number(memory.group(1).replace(",", ""), "attributes.memory", where, line)
        if memory
        else None
    )
    gpus = whole(number(_digits(attrs.get("gpu")), "attributes.gpu", where, line))
    storage_gb, storage_type = _storage(str(attrs.get("storage", "")))
    acc_id, blocker = _accelerator(product.instance_type, gpus, ctx)
    return FeedRow(
        instance_type=product.instance_type,
        region=product.region,
        line=line,
        on_demand=price,
        commit_1y=commit_1y,
        commit_3y=commit_3y,
        accelerator_id=acc_id,
        accelerator_count=gpus if acc_id else None,
        vcpus=vcpus,
        ram_gb=ram,
        local_storage_gb=storage_gb,
        local_storage_type=storage_type,
        blocker=blocker,
    )


def _digits(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip().isdigit() else None


def _storage(text: str) -> tuple[float | None, str | None]:
    """'8 x 3840 NVMe SSD' -> (30720, 'nvme'); 'EBS only' -> (0, 'none')."""
    if text.strip().lower() == "ebs only":
        return 0.0, "none"
    match = _STORAGE.match(text.strip())
    if not match:
        return None, None
    size = int(match.group(1)) * float(match.group(2).replace(",", ""))
    kind = (match.group(3) or "ssd").lower()
    return size, "nvme" if "nvme" in kind else ("hdd" if kind == "hdd" else "ssd")


def _accelerator(itype: str, gpus: int | None, ctx: Context) -> tuple[str | None, str | None]:
    """The offer file counts GPUs but does not name them: a catalogued sibling does."""
    family = itype.split(".")[0]
    siblings = {
        i.accelerator for i in ctx.instances if i.family == family or i.name.split(".")[0] == family
    }
    siblings.discard(None)
    if not gpus:
        if siblings:
            return None, f"the offer file gives no accelerator count for {family}"
        return None, None  # a CPU-only type
    if len(siblings) != 1:
        return None, (
            f"the offer file counts {gpus} GPUs but does not name them, and no catalogued "
            f"{family} instance shows which"
        )
    return siblings.pop(), None
