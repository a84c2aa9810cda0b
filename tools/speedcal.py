"""Published llama.cpp speeds, and how well the single-stream estimator reproduces them.

The rows live in ``knowledge/catalog/speed-benchmarks.yaml``: one model in one GGUF format on
one device, with decode (tg) and prompt-processing (pp) tokens/s as the source prints them.
The split into fit and held-out rows is a hash of the row id, fixed before any fitting
(:func:`split_of`); the estimator's constants in :mod:`advisor.tools.local` are fitted on the
primary fit rows only.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Literal

from .catalog import Catalog, default_catalog_dir, load_catalog, validate_file
from .errors import CatalogError
from .quant import weight_format
from .schema import SpeedBenchmark, SpeedBenchmarkCatalog

BENCH_FILE = "speed-benchmarks.yaml"
HELDOUT_SHARE = 3  # in 10: rows whose hash falls in the first three tenths are held out

Split = Literal["fit", "heldout"]


def split_of(row_id: str) -> Split:
    """Held out when int(sha256(id), 16) % 10 < 3, else fit; fixed before any fitting."""
    digest = int(hashlib.sha256(row_id.encode("utf-8")).hexdigest(), 16)
    return "heldout" if digest % 10 < HELDOUT_SHARE else "fit"


@functools.lru_cache(maxsize=4)
def load_benchmarks(directory: str | None = None) -> tuple[SpeedBenchmark, ...]:
    table = validate_file(Path(directory or default_catalog_dir()) / BENCH_FILE)
    assert isinstance(table, SpeedBenchmarkCatalog)
    return tuple(table.benchmarks)


def check_benchmarks(rows: tuple[SpeedBenchmark, ...], cat: Catalog | None = None) -> None:
    """Every row names a catalogued model and accelerator, a known format with its table bits,
    a unique id and the split its id hashes to; else a CatalogError naming the row."""
    cat = cat or load_catalog()
    seen: set[str] = set()
    for row in rows:
        where = f"{BENCH_FILE}: {row.id}"
        if row.id in seen:
            raise CatalogError(f"{where}: duplicate id")
        seen.add(row.id)
        if cat.model(row.model).id != row.model:
            raise CatalogError(f"{where}: model {row.model!r} is not a models.yaml id")
        if cat.accelerator(row.accelerator).id != row.accelerator:
            raise CatalogError(
                f"{where}: accelerator {row.accelerator!r} is not an accelerators.yaml id"
            )
        fmt = weight_format(row.quant)
        if fmt is None or fmt.key != row.quant:
            raise CatalogError(f"{where}: unknown format {row.quant!r}")
        if round(fmt.bits, 3) != row.bits_per_weight:
            raise CatalogError(
                f"{where}: bits_per_weight {row.bits_per_weight} but {row.quant} is "
                f"{fmt.bits:.3f} bits in advisor.tools.quant"
            )
        if split_of(row.id) != row.split:
            raise CatalogError(
                f"{where}: split {row.split!r}, its id hashes to {split_of(row.id)!r}"
            )
