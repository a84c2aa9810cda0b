"""Inference memory: weights, KV cache, activations and runtime overhead.

Units: GB = 10^9 bytes throughout (as accelerator datasheets count).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .models import (
    ModelRef,
    ModelSpec,
    bytes_per_param,
    normalize_dtype,
    resolve_model,
    weight_bytes,
)
from .quant import slow_half_precision, unsupported_on
from .result import Alternative, Quantity, ToolResult, fmt, ref
from .schema import Accelerator, Instance

GB = 1e9
# Engine constants (documented in docs/ESTIMATORS.md):
CUDA_CONTEXT_GB = 1.0  # CUDA context, cuBLAS/NCCL workspaces per GPU (measured 0.5-1.5 GB)
USABLE_MEMORY_FRACTION = 0.90  # vLLM's default gpu_memory_utilization
# Fits with less than this share of the usable memory to spare: "only just". An engine that
# batches requests or grows the context needs that room for KV cache (TGI, vLLM refuse to start).
TIGHT_FRACTION = 0.10
PREFILL_CHUNK_TOKENS = 8192  # tokens of prefill activations alive at once (chunked prefill)
TP_SIZES = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class KVLayout:
    bytes_per_token_full: float  # bytes per token summed over full-attention layers
    bytes_per_token_window: float  # bytes per token summed over sliding-window layers
    window: int | None
    formula: str

    def bytes_for(self, tokens: int) -> float:
        windowed = min(tokens, self.window) if self.window else tokens
        return self.bytes_per_token_full * tokens + self.bytes_per_token_window * windowed


def kv_layout(spec: ModelSpec, kv_bytes: float) -> KVLayout:
    """KV-cache bytes per token.

    MHA/GQA/MQA: 2 (K and V) x layers x kv_heads x head_dim x bytes.
    MLA (DeepSeek): layers x (kv_lora_rank + qk_rope_head_dim) x bytes (compressed latent).
    Sliding-window layers cache at most ``sliding_window`` tokens.
    """
    if spec.attention == "mla":
        rank = spec.kv_lora_rank or 512
        rope = spec.qk_rope_head_dim or 64
        per_layer = (rank + rope) * kv_bytes
        formula = f"{spec.layers} layers x ({rank} + {rope}) x {kv_bytes:g} B"
    else:
        per_layer = 2 * spec.kv_heads * spec.head_size * kv_bytes
        formula = f"2 x layers x {spec.kv_heads} KV heads x {spec.head_size} x {kv_bytes:g} B"
    window_layers = spec.sliding_window_layers if spec.sliding_window else 0
    full_layers = spec.layers - window_layers
    return KVLayout(
        bytes_per_token_full=per_layer * full_layers,
        bytes_per_token_window=per_layer * window_layers,
        window=spec.sliding_window if window_layers else None,
        formula=formula,
    )


def kv_cache_bytes_per_token(model: ModelRef, kv_dtype: str = "bf16") -> float:
    """KV cache per token at full context, in bytes.

    Example (Llama 3.1 8B, bf16): 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072 bytes.
    """
    layout = kv_layout(resolve_model(model).spec, bytes_per_param(kv_dtype))
    return layout.bytes_per_token_full + layout.bytes_per_token_window


def activation_bytes(spec: ModelSpec, tokens: int, act_bytes: float = 2.0) -> float:
    """Peak transient activations of one forward step over ``tokens`` tokens (one layer live).

    tokens x (4 x hidden + 2 x intermediate) x bytes, plus fp32 logits for up to 1 token per
    sequence (counted by the caller).
    """
    ffn = spec.ffn_size * ((spec.active_experts or 1) if spec.is_moe else 1)
    return tokens * (4 * spec.hidden_size + 2 * ffn) * act_bytes


@dataclass(frozen=True)
class MemoryBreakdown:
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    overhead_gb: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb + self.activations_gb + self.overhead_gb


def per_gpu_breakdown(
    spec: ModelSpec,
    *,
    dtype: str,
    kv_dtype: str,
    context_tokens: int,
    batch_size: int,
    tp: int,
) -> MemoryBreakdown:
    weights = weight_bytes(spec, dtype)
    layout = kv_layout(spec, bytes_per_param(kv_dtype))
    kv = layout.bytes_for(context_tokens) * batch_size
    # KV heads split across TP ranks; with fewer KV heads than ranks they are replicated.
    # The MLA latent is replicated on every rank in common engines (vLLM, SGLang).
    kv_split = 1 if spec.attention == "mla" else min(tp, spec.kv_heads)
    act_tokens = min(PREFILL_CHUNK_TOKENS, context_tokens * batch_size)
    acts = activation_bytes(spec, act_tokens) / tp + batch_size * spec.vocab_size * 4
    return MemoryBreakdown(
        weights_gb=weights / tp / GB,
        kv_cache_gb=kv / kv_split / GB,
        activations_gb=acts / GB,
        overhead_gb=CUDA_CONTEXT_GB,
    )


def _usable_gb(acc: Accelerator) -> float:
    return acc.memory_gb * USABLE_MEMORY_FRACTION


def min_accelerators(
    spec: ModelSpec, acc: Accelerator, *, dtype: str, kv_dtype: str, context: int, batch: int
) -> tuple[int | None, MemoryBreakdown | None]:
    for tp in TP_SIZES:
        b = per_gpu_breakdown(
            spec, dtype=dtype, kv_dtype=kv_dtype, context_tokens=context, batch_size=batch, tp=tp
        )
        if b.total_gb <= _usable_gb(acc):
            return tp, b
    return None, None


def inference_memory(
    model: ModelRef,
    *,
    dtype: str = "bf16",
    kv_dtype: str | None = None,
    context_tokens: int | None = None,
    batch_size: int = 1,
    accelerator: str | None = None,
    num_accelerators: int | None = None,
    instance: str | None = None,
    provider: str | None = None,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Memory to serve ``model``: weights + KV cache + activations + runtime overhead.

    Example: Llama 3.1 8B in bf16, 8,192-token context, batch 1: weights
    8.03e9 x 2 B = 16.06 GB; KV = 131,072 B x 8,192 = 1.07 GB.

    With ``accelerator`` the result gives the per-GPU memory under tensor parallelism over
    ``num_accelerators`` (or the minimum count that fits); with ``instance`` it checks that
    the instance's accelerators hold it.
    """
    cat = catalog or load_catalog()
    resolved = resolve_model(model, cat)
    spec = resolved.spec
    dtype = normalize_dtype(dtype)
    kv_dt = normalize_dtype(kv_dtype) if kv_dtype else ("fp8" if dtype == "fp8" else "bf16")
    if kv_dt not in ("fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp4", "q8_0", "q4_0"):
        raise InvalidInputError(
            f"KV-cache dtype {kv_dt!r} is not supported; use bf16, fp8, int8, q8_0 or q4_0."
        )
    assumptions = list(resolved.assumptions)
    warnings = list(resolved.warnings)
    if context_tokens is None:
        context = min(spec.max_context, 8192)
        assumptions.append(f"Context {context:,} tokens per sequence (none given).")
    else:
        context = checks.count("context_tokens", context_tokens, upper=100_000_000)
    batch = checks.count("batch_size", batch_size, upper=100_000)
    if context > spec.max_context:
        warnings.append(
            f"Context {context:,} exceeds the model's maximum of {spec.max_context:,} tokens."
        )
    refs = list(resolved.refs)

    acc: Accelerator | None = None
    inst: Instance | None = None
    if instance:
        inst = cat.instance(provider, instance)
        refs.append(ref("instances", inst))
        if inst.accelerator is None:
            raise InvalidInputError(
                f"{inst.name} has no accelerator; CPU-only instances are not sized here.",
                hint="pick a GPU/TPU instance or pass accelerator=...",
            )
        acc = cat.accelerator(inst.accelerator)
        num_accelerators = inst.accelerator_count
    elif accelerator:
        acc = cat.accelerator(accelerator)
    if acc is not None:
        refs.append(ref("accelerators", acc))
    unsupported = unsupported_on(acc, dtype) if acc is not None else None
    if unsupported:
        warnings.append(unsupported + ".")
    slow_half = slow_half_precision(acc, dtype) if acc is not None and not unsupported else None
    if slow_half:
        warnings.append(slow_half + ".")

    layout = kv_layout(spec, bytes_per_param(kv_dt))
    kv_token_bytes = layout.bytes_per_token_full + layout.bytes_per_token_window
    whole = per_gpu_breakdown(
        spec, dtype=dtype, kv_dtype=kv_dt, context_tokens=context, batch_size=batch, tp=1
    )
    values: dict[str, Quantity] = {
        "weights_gb": Quantity(label="Weights", value=whole.weights_gb, unit="GB"),
        "kv_cache_gb": Quantity(
            label="KV cache (all sequences)", value=whole.kv_cache_gb, unit="GB"
        ),
        "kv_bytes_per_token": Quantity(
            label="KV cache per token", value=kv_token_bytes, unit="bytes"
        ),
        "activations_gb": Quantity(
            label="Activations + logits", value=whole.activations_gb, unit="GB"
        ),
        "overhead_gb": Quantity(
            label="Runtime overhead per GPU", value=whole.overhead_gb, unit="GB"
        ),
        "total_gb": Quantity(
            label="Total (one device)",
            value=whole.total_gb,
            unit="GB",
            low=whole.weights_gb + whole.kv_cache_gb + 0.5,
            high=whole.total_gb * 1.15,
        ),
    }
    formula = [
        f"weights = {spec.params_b:g}e9 params x {bytes_per_param(dtype):g} B ({dtype})",
        f"KV per token = {layout.formula}"
        + (
            f"; {spec.sliding_window_layers} sliding-window layers keep {layout.window:,} tokens"
            if layout.window
            else ""
        ),
        f"KV total = KV per token x {context:,} tokens x batch {batch}",
        f"activations = min({PREFILL_CHUNK_TOKENS}, tokens) x (4 x hidden + 2 x ffn) x 2 B "
        "/ TP + batch x vocab x 4 B",
        f"usable memory = {USABLE_MEMORY_FRACTION:.0%} of device memory (vLLM default)",
    ]
    assumptions += [
        f"Weights in {dtype}, KV cache in {kv_dt}.",
        f"Runtime overhead {CUDA_CONTEXT_GB:g} GB per device (CUDA context and workspaces).",
        "GB = 10^9 bytes.",
    ]
    alternatives: list[Alternative] = []
    headline = (
        f"{spec.name} in {dtype} needs about {fmt(whole.total_gb, 'GB')} "
        f"({fmt(whole.weights_gb, 'GB')} weights + {fmt(whole.kv_cache_gb, 'GB')} KV cache "
        f"for {batch} x {context:,} tokens)."
    )
    if acc is not None:
        usable = _usable_gb(acc)
        if num_accelerators is not None:
            tp = checks.count("num_accelerators", num_accelerators, upper=4096)
            b = per_gpu_breakdown(
                spec, dtype=dtype, kv_dtype=kv_dt, context_tokens=context, batch_size=batch, tp=tp
            )
            fits = b.total_gb <= usable
            values["per_device_gb"] = Quantity(
                label=f"Per {acc.name} (TP={tp})", value=b.total_gb, unit="GB"
            )
            values["device_usable_gb"] = Quantity(
                label=f"{acc.name} usable memory", value=usable, unit="GB"
            )
            values["fits"] = Quantity(label="Fits", value=fits)
            where = inst.name if inst else f"{tp} x {acc.name}"
            headline += (
                f" On {where}: {fmt(b.total_gb, 'GB')} per device of {fmt(usable, 'GB')} usable"
                f" -> {'fits' if fits else 'does NOT fit'}."
            )
            if not fits:
                warnings.append(f"Does not fit on {where}.")
                alternatives += _alternatives(spec, acc, dtype, kv_dt, context, batch, cat)
            elif usable - b.total_gb < TIGHT_FRACTION * usable:
                spare = usable - b.total_gb
                values["headroom_gb"] = Quantity(
                    label="Left per device for more KV cache", value=spare, unit="GB"
                )
                warnings.append(
                    f"Only {fmt(spare, 'GB')} per device to spare: little room to batch "
                    "requests or lengthen the context."
                )
                alternatives += _alternatives(spec, acc, dtype, kv_dt, context, batch, cat)
                more = 2 * tp
                mb = per_gpu_breakdown(
                    spec,
                    dtype=dtype,
                    kv_dtype=kv_dt,
                    context_tokens=context,
                    batch_size=batch,
                    tp=more,
                )
                alternatives.append(
                    Alternative(
                        label=f"Use {more} x {acc.name}",
                        detail=f"{fmt(mb.total_gb, 'GB')} per device, "
                        f"{fmt(usable - mb.total_gb, 'GB')} to spare",
                        values={"accelerators": more, "per_device_gb": mb.total_gb},
                    )
                )
        n_min, b_min = min_accelerators(
            spec, acc, dtype=dtype, kv_dtype=kv_dt, context=context, batch=batch
        )
        if n_min is not None and b_min is not None:
            values["min_accelerators"] = Quantity(
                label=f"Minimum {acc.name} (tensor parallel)", value=n_min
            )
            if num_accelerators is None:
                headline += f" Minimum {n_min} x {acc.name} ({fmt(b_min.total_gb, 'GB')} each)."
            if n_min > 8:
                warnings.append(
                    f"{n_min} devices spans more than one 8-GPU node: tensor parallelism across "
                    "nodes is slow; prefer pipeline parallelism or a bigger accelerator."
                )
        else:
            values["min_accelerators"] = Quantity(label=f"Minimum {acc.name}", value="more than 64")
            warnings.append(f"Does not fit on up to 64 x {acc.name}.")
            if num_accelerators is None:
                alternatives += _alternatives(spec, acc, dtype, kv_dt, context, batch, cat)
    if unsupported and acc is not None:
        values["format_supported"] = Quantity(
            label=f"{dtype.upper()} compute on {acc.name}", value=False
        )
    if slow_half:
        values["half_precision_note"] = Quantity(label="16-bit compute", value=slow_half)
    return ToolResult(
        tool="inference_memory",
        headline=headline,
        inputs={
            "model": spec.name,
            "dtype": dtype,
            "kv_dtype": kv_dt,
            "context_tokens": context,
            "batch_size": batch,
            "accelerator": acc.id if acc else None,
            "num_accelerators": num_accelerators,
            "instance": inst.name if inst else None,
        },
        values=values,
        formula=formula,
        assumptions=assumptions,
        refs=refs,
        warnings=warnings,
        alternatives=alternatives,
    )


def _alternatives(
    spec: ModelSpec,
    acc: Accelerator,
    dtype: str,
    kv_dtype: str,
    context: int,
    batch: int,
    cat: Catalog,
) -> list[Alternative]:
    out: list[Alternative] = []
    # FP8 where the card computes in it (Hopper, Ada, MI300 and later); else 8-bit integer
    # weights; then a 4-bit GPTQ/AWQ checkpoint
    eight = "fp8" if acc.fp8_tflops is not None else "int8"
    for q in (eight, "int4"):
        if bytes_per_param(q) < bytes_per_param(dtype):
            n, b = min_accelerators(
                spec, acc, dtype=q, kv_dtype=kv_dtype, context=context, batch=batch
            )
            if n is not None and b is not None:
                whole = per_gpu_breakdown(
                    spec, dtype=q, kv_dtype=kv_dtype, context_tokens=context, batch_size=batch, tp=1
                )
                out.append(
                    Alternative(
                        label=f"Quantize to {q}" + (" (GPTQ or AWQ)" if q == "int4" else ""),
                        detail=f"{n} x {acc.name}, {fmt(b.total_gb, 'GB')} per device "
                        f"({fmt(whole.total_gb, 'GB')} in all)",
                        values={
                            "accelerators": n,
                            "per_device_gb": b.total_gb,
                            "memory_gb": whole.total_gb,
                        },
                    )
                )
    bigger = sorted(
        (
            a
            for a in cat.accelerators
            if a.memory_gb > acc.memory_gb and a.kind in ("gpu", "tpu") and not a.is_announced
        ),
        key=lambda a: a.memory_gb,
    )
    for other in bigger[:3]:
        n, b = min_accelerators(
            spec, other, dtype=dtype, kv_dtype=kv_dtype, context=context, batch=batch
        )
        if n is not None and b is not None:
            out.append(
                Alternative(
                    label=f"Use {other.name} ({other.memory_gb:g} GB)",
                    detail=f"{n} x {other.name}, {fmt(b.total_gb, 'GB')} per device",
                    values={"accelerators": n, "per_device_gb": b.total_gb},
                )
            )
    if context > 8192:
        n, b = min_accelerators(
            spec, acc, dtype=dtype, kv_dtype=kv_dtype, context=8192, batch=batch
        )
        if n is not None and b is not None:
            out.append(
                Alternative(
                    label="Shorter context (8,192 tokens)",
                    detail=f"{n} x {acc.name}, {fmt(b.total_gb, 'GB')} per device",
                    values={"accelerators": n},
                )
            )
    return out


def weights_gb(spec: ModelSpec, dtype: str) -> float:
    return weight_bytes(spec, dtype) / GB
