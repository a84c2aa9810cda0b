"""Cloud GPU launch errors: which wall was hit (offering, quota or capacity) and the fix.

A quota increase never creates hardware, and more capacity never lifts a quota: the first step
with a GPU that will not start is to tell which of the three it is. The signatures live in
``knowledge/catalog/cloud-errors.yaml`` with the provider documentation each comes from.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .catalog import check_patterns, default_catalog_dir, validate_file
from .errors import InvalidInputError
from .result import CatalogRef, Quantity, ToolResult
from .schema import CloudError, CloudErrorCatalog

ERRORS_FILE = "cloud-errors.yaml"
MAX_TEXT = 20_000
WALL_WORDS = {
    "offering": "not offered there",
    "quota": "a quota limit",
    "capacity": "out of capacity",
    "scheduling": "a scheduling failure",
}


@functools.lru_cache(maxsize=4)
def load_cloud_errors(directory: str | None = None) -> tuple[CloudError, ...]:
    path = Path(directory or default_catalog_dir()) / ERRORS_FILE
    table = validate_file(path)  # the catalog loader: schema version, file:row:field errors
    assert isinstance(table, CloudErrorCatalog)
    check_patterns(path, table.errors)
    return tuple(table.errors)


def match_cloud_errors(text: str, provider: str | None = None) -> list[CloudError]:
    """The known error signatures in ``text``, in the order they occur (the error quoted first
    is the one the user hit), of ``provider`` (or any provider) when it is known."""
    text = text[:MAX_TEXT]
    hits = [
        (at, n, e)
        for n, e in enumerate(load_cloud_errors())
        if (at := e.first_match(text)) is not None
    ]
    found = [e for _, _, e in sorted(hits, key=lambda h: (h[0], h[1]))]
    if provider:
        found = [e for e in found if e.provider in (provider, None)] or found
    return found


def diagnose_availability(error: str, provider: str | None = None) -> ToolResult:
    """Which wall a GPU that will not start has hit, from its error text or description.

    Example: "VcpuLimitExceeded ... g5.xlarge" is the AWS On-Demand vCPU quota of the G and VT
    family in that Region: request it in Service Quotas; "ZONE_RESOURCE_POOL_EXHAUSTED" is a
    stockout in that zone: try another.
    """
    if not isinstance(error, str) or not error.strip():
        raise InvalidInputError(
            "error must be the error message or a description of it.",
            hint='pass the text the cloud returned, e.g. "VcpuLimitExceeded".',
        )
    found = match_cloud_errors(error, provider)
    if not found:
        raise InvalidInputError(
            "no known cloud GPU error in the text.",
            hint="quote the error code (e.g. InsufficientInstanceCapacity, "
            "ZONE_RESOURCE_POOL_EXHAUSTED, QuotaExceeded, SkuNotAvailable).",
        )
    first = found[0]
    headline = f"This is {WALL_WORDS[first.wall]}: {first.meaning} Fix: {first.fix}"
    values = {
        "wall": Quantity(label="What was hit", value=first.wall),
        "signatures": Quantity(label="Known errors matched", value=len(found)),
    }
    refs = [
        CatalogRef(catalog="cloud-errors", row=e.id, as_of=e.as_of, sources=list(e.sources))
        for e in found[:3]
    ]
    return ToolResult(
        tool="diagnose_availability",
        headline=headline,
        inputs={"provider": provider, "matched": [e.id for e in found[:3]]},
        values=values,
        formula=["the error text matched against the providers' documented error signatures"],
        assumptions=[
            "Offering, quota and capacity are different walls: a quota increase creates no "
            "hardware, and capacity elsewhere does not lift a quota."
        ],
        refs=refs,
        table=[
            {"error": e.id, "wall": e.wall, "meaning": e.meaning, "fix": e.fix} for e in found[1:3]
        ]
        or None,
    )
