"""Data and storage: dataset, checkpoint and index sizes; storage cost; transfer and feed rates."""

from __future__ import annotations

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .models import ModelRef, resolve_model
from .result import Quantity, ToolResult, ref, stale_warnings
from .schema import StorageTier

GB = 1e9
RAW_TEXT_BYTES_PER_TOKEN = 4.0  # English text averages ~4 characters (bytes) per BPE token
CHECKPOINT_BYTES_PER_PARAM = 14.0  # bf16 weights (2) + fp32 master weights, m and v (12)
TIERS = ("object", "object-infrequent", "object-archive", "block", "file", "nvme")


def _tier(cat: Catalog, provider: str, tier: str) -> StorageTier:
    prov = provider.strip().lower()
    t = checks.choice("storage tier", tier, TIERS)
    for row in cat.storage.tiers:
        if row.provider == prov and row.tier == t:
            return row
    offered = sorted({f"{r.provider}/{r.tier}" for r in cat.storage.tiers})
    raise InvalidInputError(
        f"No {t} storage price catalogued for {provider!r}.",
        hint=f"use one of: {', '.join(offered)}.",
    )


def storage_estimate(
    *,
    dataset_tokens: float | None = None,
    dataset_gb: float | None = None,
    model: ModelRef | None = None,
    checkpoints_kept: int = 3,
    embeddings: float | None = None,
    embedding_dim: int = 768,
    embedding_bytes: float = 4.0,
    provider: str = "aws",
    tier: str = "object",
    months: float = 1.0,
    bandwidth_gbps: float | None = None,
    egress_gb: float | None = None,
    num_accelerators: int | None = None,
    read_mb_s_per_accelerator: float | None = None,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Sizes, storage cost, transfer time, egress cost and read throughput for a workload.

    dataset = tokens x 4 B raw text (or ``dataset_gb``); tokenized copy = tokens x 4 B (uint32);
    checkpoint = params x 14 B (bf16 weights + fp32 master, m, v) x kept;
    embedding index = vectors x dim x bytes x 1.5 (HNSW graph and metadata);
    transfer time = GB x 8 / Gb/s; egress = GB x $/GB after the free allowance.
    """
    cat = catalog or load_catalog()
    row = _tier(cat, provider, tier)
    m = checks.positive("months", months, upper=600)
    values: dict[str, Quantity] = {}
    formula: list[str] = []
    refs = [ref("storage", row)]
    warnings: list[str] = []
    total = 0.0
    if dataset_tokens is not None:
        t = checks.positive("dataset_tokens", dataset_tokens, upper=1e16)
        raw = t * RAW_TEXT_BYTES_PER_TOKEN / GB
        tok = t * 4 / GB
        values["dataset_raw_gb"] = Quantity(
            label="Raw text", value=raw, unit="GB", low=raw * 0.75, high=raw * 1.5
        )
        values["dataset_tokenized_gb"] = Quantity(label="Tokenized (uint32)", value=tok, unit="GB")
        formula.append("raw = tokens x 4 B; tokenized = tokens x 4 B (uint32 ids)")
        total += raw + tok
    if dataset_gb is not None:
        g = checks.positive("dataset_gb", dataset_gb, upper=1e9)
        values["dataset_gb"] = Quantity(label="Dataset", value=g, unit="GB")
        total += g
    if model is not None:
        resolved = resolve_model(model, cat)
        keep = checks.count("checkpoints_kept", checkpoints_kept, upper=10_000)
        one = resolved.spec.params_b * 1e9 * CHECKPOINT_BYTES_PER_PARAM / GB
        values["checkpoint_gb"] = Quantity(
            label="One full training checkpoint", value=one, unit="GB"
        )
        values["checkpoints_gb"] = Quantity(
            label=f"{keep} checkpoints kept", value=one * keep, unit="GB"
        )
        values["weights_only_gb"] = Quantity(
            label="Weights only (bf16)", value=resolved.spec.params_b * 2, unit="GB"
        )
        formula.append("checkpoint = params x 14 B (bf16 weights + fp32 master, m, v)")
        refs = [*resolved.refs, *refs]
        warnings += resolved.warnings
        total += one * keep
    if embeddings is not None:
        n = checks.positive("embeddings", embeddings, upper=1e13)
        dim = checks.count("embedding_dim", embedding_dim, upper=65536)
        eb = checks.positive("embedding_bytes", embedding_bytes, upper=8)
        idx = n * dim * eb * 1.5 / GB
        values["embedding_index_gb"] = Quantity(
            label="Vector index", value=idx, unit="GB", low=idx / 1.5, high=idx * 4 / 3
        )
        formula.append("index = vectors x dim x bytes x 1.5 (graph + metadata)")
        total += idx
    if total <= 0 and not (bandwidth_gbps or egress_gb or num_accelerators):
        raise InvalidInputError(
            "Nothing to size.",
            hint="give dataset_tokens, dataset_gb, model (checkpoints), embeddings, "
            "egress_gb or num_accelerators.",
        )
    if total > 0:
        monthly = total * row.usd_per_gb_month
        values["total_gb"] = Quantity(label="Total stored", value=total, unit="GB")
        values["storage_usd_month"] = Quantity(
            label=f"{row.name} per month", value=monthly, unit="$"
        )
        values["storage_usd_total"] = Quantity(
            label=f"Storage over {m:g} months", value=monthly * m, unit="$"
        )
        formula.append(f"storage $ = GB x {row.usd_per_gb_month:g} $/GB-month x months")
    if bandwidth_gbps is not None and total > 0:
        bw = checks.positive("bandwidth_gbps", bandwidth_gbps, upper=1e6)
        hours = total * 8 / bw / 3600
        values["transfer_hours"] = Quantity(
            label=f"Time to move at {bw:g} Gb/s", value=hours, unit="h", high=hours / 0.7
        )
        formula.append("transfer time = GB x 8 / (Gb/s) (range to 70% link efficiency)")
    if egress_gb is not None:
        eg = checks.non_negative("egress_gb", egress_gb, upper=1e9)
        rate = next((e for e in cat.storage.egress if e.provider == row.provider), None)
        if rate is None:
            raise InvalidInputError(f"No egress price catalogued for {row.provider}.")
        cost = max(0.0, eg - rate.free_gb_month) * rate.usd_per_gb
        values["egress_usd"] = Quantity(label="Internet egress", value=cost, unit="$")
        formula.append(f"egress $ = (GB - {rate.free_gb_month:g} free) x {rate.usd_per_gb:g} $/GB")
        refs.append(ref("storage", rate))
    if num_accelerators is not None:
        n_acc = checks.count("num_accelerators", num_accelerators, upper=1_000_000)
        per = checks.positive(
            "read_mb_s_per_accelerator",
            read_mb_s_per_accelerator if read_mb_s_per_accelerator else 200.0,
            upper=1e6,
        )
        need = n_acc * per / 1000
        values["read_gb_s"] = Quantity(
            label=f"Read throughput for {n_acc} accelerators", value=need, unit="GB/s"
        )
        formula.append(f"read = accelerators x {per:g} MB/s")
        if read_mb_s_per_accelerator is None:
            warnings.append(
                "Read rate per accelerator assumed 200 MB/s (image/video-style "
                "training); text LLM training needs far less."
            )
    head = ", ".join(f"{q.label.lower()} {q.render()}" for q in list(values.values())[:3])
    return ToolResult(
        tool="storage_estimate",
        headline=f"Storage: {head}.",
        inputs={
            "dataset_tokens": dataset_tokens,
            "dataset_gb": dataset_gb,
            "model": None if model is None else str(model),
            "embeddings": embeddings,
            "provider": row.provider,
            "tier": row.tier,
            "months": m,
            "bandwidth_gbps": bandwidth_gbps,
            "egress_gb": egress_gb,
            "num_accelerators": num_accelerators,
        },
        values=values,
        formula=formula,
        assumptions=["GB = 10^9 bytes.", f"Priced on {row.name} ({row.provider})."],
        refs=refs,
        warnings=warnings + stale_warnings(refs),
    )
