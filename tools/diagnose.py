"""Error messages and log lines people paste: what each means and the fix.

A pasted log often says more than the question around it: "NET/Socket" in an NCCL log means
the job never used InfiniBand or RoCE, "Tried to allocate ... reserved but unallocated" is
fragmentation rather than a model too large. The signatures live in
``knowledge/catalog/error-signatures.yaml``, each with the documentation or maintainer answer
it comes from. Cloud launch errors (quota, capacity) are ``tools.availability``'s.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .catalog import check_patterns, default_catalog_dir, validate_file
from .errors import CatalogError, InvalidInputError
from .result import CatalogRef, Quantity, ToolResult
from .schema import ErrorSignature, ErrorSignatureCatalog

SIGNATURES_FILE = "error-signatures.yaml"
MAX_TEXT = 20_000
AREA_WORDS = {
    "network": "a network problem",
    "memory": "a memory problem",
    "compatibility": "a hardware or software compatibility problem",
    "storage": "a storage or data-loading problem",
    "software": "a software problem",
}


@functools.lru_cache(maxsize=4)
def load_signatures(directory: str | None = None) -> tuple[ErrorSignature, ...]:
    path = Path(directory or default_catalog_dir()) / SIGNATURES_FILE
    table = validate_file(path)  # the catalog loader: schema version, file:row:field errors
    assert isinstance(table, ErrorSignatureCatalog)
    seen: set[str] = set()
    for row in table.signatures:
        if row.id in seen:
            raise CatalogError(f"{path}: {row.id}: duplicate id")
        seen.add(row.id)
    check_patterns(path, table.signatures)
    return tuple(table.signatures)


def match_signatures(text: str, directory: str | None = None) -> list[ErrorSignature]:
    """The known signatures in ``text``, in the order they occur (the first one quoted is
    usually the cause; later lines are often its consequences)."""
    text = text[:MAX_TEXT]
    hits = [
        (at, n, s)
        for n, s in enumerate(load_signatures(directory))
        if (at := s.first_match(text)) is not None
    ]
    return [s for _, _, s in sorted(hits, key=lambda h: (h[0], h[1]))]


def diagnose_error(error: str) -> ToolResult:
    """What a pasted error message or log line means, and the fix.

    Example: an NCCL log with "NET/Socket : Using [0]eth0" on two nodes means NCCL found no
    InfiniBand/RoCE device and sends every all-reduce over TCP: install the RDMA libraries
    (libibverbs) and check with nccl-tests' all_reduce_perf across the nodes.
    """
    if not isinstance(error, str) or not error.strip():
        raise InvalidInputError(
            "error must be the error message or log lines.",
            hint='paste the message, e.g. "CUDA error: no kernel image is available".',
        )
    found = match_signatures(error)
    if not found:
        raise InvalidInputError(
            "no known error message or log line in the text.",
            hint="paste the exact error line (NCCL WARN ..., CUDA error: ..., RuntimeError: ...).",
        )
    first = found[0]
    headline = f"This is {AREA_WORDS[first.area]}: {first.meaning} Fix: {first.fix}"
    if first.check:
        headline += f" To confirm: {first.check}"
    related = [s for s in found[1:] if s.area == first.area]
    if related:
        # "Failed to open libibverbs" then "Using network Socket": the consequence, and how
        # to see it is gone
        then = related[0]
        headline += f" The text also shows: {then.meaning}"
        if then.check and then.check != first.check:
            headline += f" Then check: {then.check}"
    values = {
        "diagnosis": Quantity(label="What it means", value=f"{first.meaning} Fix: {first.fix}"),
        "area": Quantity(label="Kind of problem", value=first.area),
        "signatures": Quantity(label="Known messages matched", value=len(found)),
    }
    refs = [
        CatalogRef(catalog="error-signatures", row=s.id, as_of=s.as_of, sources=list(s.sources))
        for s in found[:3]
    ]
    return ToolResult(
        tool="diagnose_error",
        headline=headline,
        inputs={"matched": [s.id for s in found[:3]]},
        values=values,
        formula=["the text matched against documented error messages and log lines"],
        assumptions=["The first known message in the text is taken as the cause."],
        refs=refs,
        table=[
            {"message": s.id, "area": s.area, "meaning": s.meaning, "fix": s.fix}
            for s in found[1:3]
        ]
        or None,
    )
