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
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import local
from .catalog import Catalog, default_catalog_dir, load_catalog, validate_file
from .errors import CatalogError
from .models import ModelSpec
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


# -- the estimator on a row ------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A benchmark row with what the estimator needs: bytes read, the device, its pool."""

    row: SpeedBenchmark
    decode_class: str
    weights_gb: float  # active weights read per token
    kv_gb: float  # KV cache read per token, at half of n_gen tokens
    bits: float
    bandwidth_gb_s: float
    flops: float | None  # the estimator's peak figure (local._peak_flops)
    legacy_flops: float | None  # the pre-calibration figure: fp16, else bf16, else fp32
    active_params: float
    pool: local.Pool


def cases(rows: tuple[SpeedBenchmark, ...] | None = None, cat: Catalog | None = None) -> list[Case]:
    cat = cat or load_catalog()
    out = []
    for row in rows if rows is not None else load_benchmarks():
        spec = ModelSpec.from_catalog(cat.model(row.model))
        acc = cat.accelerator(row.accelerator)
        pool = local.accelerator_pool(acc, 1, None, None)
        fp = local.footprint(spec, row.quant, "fp16", row.n_gen or 1, 1)
        legacy = acc.fp16_tflops or acc.bf16_tflops or acc.fp32_tflops
        out.append(
            Case(
                row=row,
                decode_class=local.decode_class(acc),
                weights_gb=local.weights_read_gb(spec, fp),
                kv_gb=fp.kv_gb * 0.5,
                bits=fp.weight_bits,
                bandwidth_gb_s=acc.memory_bandwidth_gb_s,
                flops=pool.flops,
                legacy_flops=float(legacy) * 1e12 if legacy else None,
                active_params=spec.active_b * 1e9,
                pool=pool,
            )
        )
    return out


def predict_tg(case: Case) -> float:
    """Decode tokens/s the estimator gives for this row (central), the model wholly on it."""
    seconds = local.read_seconds(case.weights_gb, case.kv_gb, case.pool, case.bits)
    return 1 / (seconds + case.pool.fixed_s[0])


def predict_pp(case: Case) -> float | None:
    pool = case.pool
    if not pool.flops or not pool.prefill_efficiency:
        return None
    return pool.flops * pool.prefill_efficiency / (2 * case.active_params)


# The estimator before this calibration (2026-11): tokens/s = efficiency x bandwidth / GB read,
# NVIDIA/AMD 0.65, Apple 0.72 up to 200 GB/s, 0.62 up to 546, 0.42 above; prefill 0.4 x the
# fp16 (else bf16, else fp32) figure. Kept to report before/after on the same rows.
LEGACY_GPU_EFFICIENCY = 0.65
LEGACY_APPLE_TIERS = ((200.0, 0.72), (546.0, 0.62), (math.inf, 0.42))
LEGACY_PREFILL_EFFICIENCY = 0.4


def legacy_tg(case: Case) -> float:
    if case.decode_class == "apple":
        eff = next(e for upper, e in LEGACY_APPLE_TIERS if case.bandwidth_gb_s <= upper)
    else:
        eff = LEGACY_GPU_EFFICIENCY
    return eff * case.bandwidth_gb_s / (case.weights_gb + case.kv_gb)


def legacy_pp(case: Case) -> float | None:
    if not case.legacy_flops:
        return None
    return case.legacy_flops * LEGACY_PREFILL_EFFICIENCY / (2 * case.active_params)


# -- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Errors:
    """Median absolute percentage error and the share within +-30% over ``n`` rows."""

    n: int
    mdape: float
    within_30: float

    def __str__(self) -> str:
        return f"{self.n} rows: MdAPE {self.mdape:.1%}, within +-30% {self.within_30:.0%}"


def errors(pairs: list[tuple[float, float]]) -> Errors:
    """``pairs`` of (predicted, measured)."""
    rel = sorted(abs(p / m - 1) for p, m in pairs)
    if not rel:
        return Errors(0, math.nan, math.nan)
    return Errors(len(rel), statistics.median(rel), sum(r <= 0.30 for r in rel) / len(rel))


def group(all_cases: list[Case], name: str) -> list[Case]:
    """fit / heldout: primary rows of that split; transcription: the transcribed rows."""
    if name == "transcription":
        return [c for c in all_cases if c.row.provenance == "transcription"]
    return [c for c in all_cases if c.row.provenance == "primary" and c.row.split == name]


def tg_errors(cs: list[Case], legacy: bool = False) -> Errors:
    f = legacy_tg if legacy else predict_tg
    return errors([(f(c), c.row.tg_tokens_per_s) for c in cs if c.row.tg_tokens_per_s])


def pp_errors(cs: list[Case], legacy: bool = False) -> Errors:
    f = legacy_pp if legacy else predict_pp
    pairs = []
    for c in cs:
        got = f(c)
        if c.row.pp_tokens_per_s and got is not None:
            pairs.append((got, c.row.pp_tokens_per_s))
    return errors(pairs)


def report(all_cases: list[Case] | None = None) -> str:
    """Before/after error table (Markdown) on fit, held-out and transcription rows."""
    all_cases = all_cases if all_cases is not None else cases()
    lines = [
        "| rows | decode before | decode after | prefill before | prefill after |",
        "|---|---|---|---|---|",
    ]
    for name in ("fit", "heldout", "transcription"):
        cs = group(all_cases, name)
        cells = [tg_errors(cs, True), tg_errors(cs), pp_errors(cs, True), pp_errors(cs)]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{e.mdape:.1%}, {e.within_30:.0%} in +-30% (n={e.n})" for e in cells)
            + " |"
        )
    return "\n".join(lines)


# -- the fit ---------------------------------------------------------------------------------

FITTED_CLASSES = ("gpu", "gpu-hbm", "apple")
FACTOR_GRID = [round(0.20 + 0.01 * k, 2) for k in range(81)]  # 0.20 .. 1.00


@dataclass(frozen=True)
class Calibration:
    """Fitted constants, rounded as local.py carries them."""

    efficiency: dict[str, float]
    fixed_ms: dict[str, float]
    prefill_efficiency: dict[str, float]
    quant_factor: float
    low_bit_factor: float
    decode_band: tuple[float, float]
    prefill_band: tuple[float, float]


def _factor(bits: float, quant: float, low: float) -> float:
    if bits >= 8:
        return 1.0
    return low if bits < local.LOW_BIT_BELOW else quant


def _x(case: Case, quant: float, low: float) -> float:
    """Seconds per token per unit of 1/efficiency: (weights / factor + KV) / bandwidth."""
    return (case.weights_gb / _factor(case.bits, quant, low) + case.kv_gb) / case.bandwidth_gb_s


def _least_squares(cs: list[Case], quant: float, low: float) -> tuple[float, float]:
    """(efficiency, fixed seconds) minimizing the squared relative error of the time per
    token, t = x / efficiency + fixed: a 2 x 2 weighted least squares, fixed held >= 0."""
    # t_i = x_i a + fixed with a = 1 / efficiency; dividing by t_i: 1 = u_i a + v_i fixed
    rows = [(_x(c, quant, low), c.row.tg_tokens_per_s) for c in cs if c.row.tg_tokens_per_s]
    u = [x * speed for x, speed in rows]
    v = [speed for _, speed in rows]
    suu, svv = sum(a * a for a in u), sum(b * b for b in v)
    suv = sum(x * speed * speed for x, speed in rows)
    su, sv = sum(u), sum(v)
    det = suu * svv - suv * suv
    inv_eff, fixed = (su * svv - sv * suv) / det, (suu * sv - suv * su) / det
    if fixed < 0:
        inv_eff, fixed = su / suu, 0.0
    return 1 / inv_eff, fixed


def _tg(case: Case) -> float:
    assert case.row.tg_tokens_per_s is not None
    return case.row.tg_tokens_per_s


def _central_tg(case: Case, eff: float, fixed: float, quant: float, low: float) -> float:
    return 1 / (_x(case, quant, low) / eff + fixed)


def fit_decode(
    cs: list[Case],
) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Per class (efficiency, fixed seconds) and the two format factors: the factors by grid
    (0.20..1.00, step 0.01), each class's pair by least squares given them; the grid point
    with the least total squared log error over the rows wins."""
    by_class = {
        k: [c for c in cs if c.decode_class == k and c.row.tg_tokens_per_s] for k in FITTED_CLASSES
    }
    best: tuple[float, dict[str, tuple[float, float]], float, float] | None = None
    for quant in FACTOR_GRID:
        for low in FACTOR_GRID:
            if low > quant:
                continue
            fits = {k: _least_squares(rows, quant, low) for k, rows in by_class.items() if rows}
            loss = sum(
                math.log(_central_tg(c, *fits[k], quant, low) / _tg(c)) ** 2
                for k, rows in by_class.items()
                for c in rows
            )
            if best is None or loss < best[0]:
                best = (loss, fits, quant, low)
    assert best is not None
    return best[1], best[2], best[3]


def fit_prefill(cs: list[Case]) -> dict[str, float]:
    """Per class, the geometric median of measured pp / (peak FLOPS / (2 x active params))."""
    out = {}
    for k in FITTED_CLASSES:
        logs = [
            math.log(c.row.pp_tokens_per_s * 2 * c.active_params / c.flops)
            for c in cs
            if c.decode_class == k and c.row.pp_tokens_per_s and c.flops
        ]
        if logs:
            out[k] = math.exp(statistics.median(logs))
    return out


def _band(ratios: list[float]) -> tuple[float, float]:
    deciles = statistics.quantiles(ratios, n=10)
    return round(deciles[0], 2), round(deciles[-1], 2)


def calibrate(all_cases: list[Case] | None = None) -> Calibration:
    """The constants local.py carries, from the primary fit rows: fit_decode and fit_prefill,
    rounded (efficiencies and factors to 0.01, fixed times to 0.1 ms), then the bands: the
    10th and 90th percentile of measured / central over the same rows."""
    cs = group(all_cases if all_cases is not None else cases(), "fit")
    fits, quant, low = fit_decode(cs)
    eff = {k: round(e, 2) for k, (e, _) in fits.items()}
    fixed_ms = {k: round(f * 1000, 1) for k, (_, f) in fits.items()}
    quant, low = round(quant, 2), round(low, 2)
    pre = {k: round(v, 2) for k, v in fit_prefill(cs).items()}
    tg = [
        c.row.tg_tokens_per_s / _central_tg(c, eff[k], fixed_ms[k] / 1000, quant, low)
        for c in cs
        if c.row.tg_tokens_per_s and (k := c.decode_class) in eff
    ]
    pp = [
        c.row.pp_tokens_per_s / (pre[k] * c.flops / (2 * c.active_params))
        for c in cs
        if c.row.pp_tokens_per_s and c.flops and (k := c.decode_class) in pre
    ]
    return Calibration(eff, fixed_ms, pre, quant, low, _band(tg), _band(pp))


if __name__ == "__main__":  # python -m advisor.tools.speedcal: the fit and the error table
    print(calibrate())
    print(report())
