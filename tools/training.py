"""Training and fine-tuning: compute (FLOPs, GPU-hours, wall-clock), communication and memory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .models import COMPUTE_FIELD, ModelRef, ModelSpec, normalize_dtype, resolve_model
from .result import Alternative, Quantity, ToolResult, fmt, ref
from .schema import Accelerator

GB = 1e9
DEFAULT_MFU = 0.40
MFU_RANGE = (0.30, 0.50)
CHINCHILLA_TOKENS_PER_PARAM = 20
GPUS_PER_NODE = 8

# Scale-out fabrics: usable GB/s per accelerator in one direction, and bus efficiency.
FABRICS: dict[str, tuple[float, float, str]] = {
    "infiniband": (50.0, 0.90, "InfiniBand NDR 400 Gb/s per GPU (rail-optimized)"),
    "roce": (50.0, 0.85, "RoCE v2 400 GbE per GPU"),
    "ethernet": (100 / 8 / 8, 0.70, "plain 100 GbE per node shared by 8 GPUs, TCP"),
    "nvlink": (0.0, 0.80, "NVLink / scale-up fabric inside one node"),
}


def _peak_tflops(acc: Accelerator, dtype: str) -> float:
    field = COMPUTE_FIELD.get(dtype, "bf16_tflops")
    value = getattr(acc, field, None)
    if value is None:
        value = acc.bf16_tflops or acc.fp16_tflops
    if value is None:
        raise InvalidInputError(
            f"{acc.name} has no catalogued {dtype} throughput.", hint="pick another dtype."
        )
    return float(value)


def training_flops(spec: ModelSpec, tokens: float, *, recompute: bool = False) -> float:
    """6 x N_active x D (8 x N x D with full activation recomputation)."""
    factor = 8 if recompute else 6
    return factor * spec.active_b * 1e9 * tokens


def training_estimate(
    model: ModelRef,
    tokens: float,
    accelerator: str = "h100",
    *,
    num_accelerators: int | None = None,
    deadline_days: float | None = None,
    mfu: float = DEFAULT_MFU,
    dtype: str = "bf16",
    recompute: bool = False,
    fabric: str | None = None,
    global_batch_tokens: float = 4_000_000,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Compute for training or fine-tuning on ``tokens`` tokens.

    FLOPs = 6 x N x D (N = active parameters for MoE; 8 x N x D with full recompute).
    GPU-hours = FLOPs / (peak dense TFLOPS x MFU x 3600).

    Example: Llama 3.1 8B on 15T tokens: 6 x 8.03e9 x 15e12 = 7.2e23 FLOPs; on H100 at
    989 TFLOPS bf16 and 40% MFU: 7.2e23 / (989e12 x 0.4 x 3600) = 506k GPU-hours.
    """
    cat = catalog or load_catalog()
    resolved = resolve_model(model, cat)
    spec = resolved.spec
    d = checks.positive("tokens", tokens, upper=1e15)
    mfu = checks.fraction("mfu", mfu)
    dtype = normalize_dtype(dtype)
    acc = cat.accelerator(accelerator)
    peak = _peak_tflops(acc, dtype) * 1e12
    flops = training_flops(spec, d, recompute=recompute)
    gpu_hours = flops / (peak * mfu) / 3600
    lo_h = flops / (peak * MFU_RANGE[1]) / 3600
    hi_h = flops / (peak * MFU_RANGE[0]) / 3600
    warnings = list(resolved.warnings)
    assumptions = list(resolved.assumptions) + [
        f"MFU {mfu:.0%} (typical {MFU_RANGE[0]:.0%}-{MFU_RANGE[1]:.0%} for large dense "
        "models on Hopper-class GPUs).",
        f"Peak {dtype} dense throughput of {acc.name}: {_peak_tflops(acc, dtype):g} TFLOPS.",
    ]
    ratio = d / (spec.params_b * 1e9)
    if ratio < CHINCHILLA_TOKENS_PER_PARAM:
        warnings.append(
            f"{ratio:.1f} tokens per parameter is under the compute-optimal ~20 "
            "(Chinchilla); fine for fine-tuning, undertrained for pretraining."
        )
    values: dict[str, Quantity] = {
        "flops": Quantity(label="Training compute", value=flops, unit="FLOPs"),
        "gpu_hours": Quantity(
            label=f"{acc.name}-hours", value=gpu_hours, unit="h", low=lo_h, high=hi_h
        ),
        "tokens_per_param": Quantity(label="Tokens per parameter", value=ratio),
    }
    formula = [
        f"FLOPs = {'8' if recompute else '6'} x {spec.active_b:g}e9 active params x {d:.3g} tokens",
        f"GPU-hours = FLOPs / ({_peak_tflops(acc, dtype):g}e12 x MFU {mfu:g} x 3600)",
    ]
    n = num_accelerators
    if deadline_days is not None:
        days = checks.positive("deadline_days", deadline_days, upper=3650)
        needed = math.ceil(gpu_hours / (days * 24))
        values["accelerators_for_deadline"] = Quantity(
            label=f"{acc.name} for {days:g} days",
            value=needed,
            low=math.ceil(lo_h / (days * 24)),
            high=math.ceil(hi_h / (days * 24)),
        )
        formula.append("accelerators = ceil(GPU-hours / (deadline days x 24))")
        if n is None:
            n = needed
    headline = (
        f"{spec.name} on {d:.3g} tokens: {flops:.3g} FLOPs = {fmt(gpu_hours, '')} "
        f"{acc.name}-hours at {mfu:.0%} MFU"
    )
    if n is not None:
        n = checks.count("num_accelerators", n, upper=1_000_000)
        wall_h = gpu_hours / n
        values["num_accelerators"] = Quantity(label="Accelerators", value=n)
        values["wall_clock_days"] = Quantity(
            label="Wall-clock",
            value=wall_h / 24,
            unit="days",
            low=lo_h / n / 24,
            high=hi_h / n / 24,
        )
        values["wall_clock_hours"] = Quantity(
            label="Wall-clock hours", value=wall_h, unit="h", low=lo_h / n, high=hi_h / n
        )
        formula.append(f"wall-clock = GPU-hours / {n}")
        headline += f"; {fmt(wall_h / 24, 'days')} on {n} GPUs"
        if n > 1:
            comm = allreduce_share(
                spec,
                acc,
                n,
                fabric or ("nvlink" if n <= 8 else "infiniband"),
                mfu=mfu,
                dtype=dtype,
                global_batch_tokens=global_batch_tokens,
            )
            values["allreduce_s_per_step"] = Quantity(
                label=f"Gradient all-reduce per step ({comm.fabric})",
                value=comm.allreduce_s,
                unit="s",
            )
            values["compute_s_per_step"] = Quantity(
                label=f"Compute per step ({global_batch_tokens:,.0f} tokens)",
                value=comm.compute_s,
                unit="s",
            )
            values["comm_share"] = Quantity(
                label="All-reduce share of step time (no overlap)", value=comm.share
            )
            formula.append(
                "all-reduce = 2 (g-1)/g x grad bytes / NVLink BW + 2 (m-1)/m x grad bytes / g / "
                "fabric BW per GPU (g GPUs per node, m nodes); share = comm / (comm + compute)"
            )
            assumptions.append(f"Scale-out fabric: {FABRICS[comm.fabric_key][2]}.")
            if comm.share > 0.3:
                warnings.append(
                    f"Gradient all-reduce takes {comm.share:.0%} of step time on "
                    f"{comm.fabric}: overlap communication, use a faster fabric or larger batch."
                )
    alternatives = []
    for other_name in ("h100", "h200", "b200", "mi300x", "tpu-v5p"):
        try:
            other = cat.accelerator(other_name)
        except LookupError:
            continue
        if other.id == acc.id:
            continue
        h = flops / (_peak_tflops(other, dtype) * 1e12 * mfu) / 3600
        alternatives.append(
            Alternative(
                label=other.name,
                detail=f"{fmt(h, 'GPU-hours')} at the same MFU",
                values={"gpu_hours": h},
            )
        )
    return ToolResult(
        tool="training_estimate",
        headline=headline + ".",
        inputs={
            "model": spec.name,
            "tokens": d,
            "accelerator": acc.id,
            "num_accelerators": n,
            "deadline_days": deadline_days,
            "mfu": mfu,
            "dtype": dtype,
            "recompute": recompute,
        },
        values=values,
        formula=formula,
        assumptions=assumptions,
        refs=[*resolved.refs, ref("accelerators", acc)],
        warnings=warnings,
        alternatives=alternatives,
    )


@dataclass(frozen=True)
class AllReduce:
    allreduce_s: float
    compute_s: float
    share: float
    fabric: str
    fabric_key: str


def allreduce_share(
    spec: ModelSpec,
    acc: Accelerator,
    n: int,
    fabric: str,
    *,
    mfu: float,
    dtype: str,
    global_batch_tokens: float,
    grad_bytes_per_param: float = 2.0,
) -> AllReduce:
    """Data-parallel gradient all-reduce time per optimizer step, and its share of the step."""
    key = checks.choice("fabric", fabric, FABRICS)
    grad_bytes = spec.params_b * 1e9 * grad_bytes_per_param
    nvlink_bw = (acc.interconnect_gb_s or 64.0) / 2 * 1e9 * FABRICS["nvlink"][1]
    g = min(n, GPUS_PER_NODE)
    t_intra = 2 * (g - 1) / g * grad_bytes / nvlink_bw if g > 1 else 0.0
    nodes = math.ceil(n / GPUS_PER_NODE)
    if key == "nvlink" or nodes == 1:
        t_inter = 0.0
        label = acc.interconnect_name or "scale-up link"
        if nodes > 1:
            raise InvalidInputError(
                f"{n} accelerators span {nodes} nodes; NVLink alone cannot connect them.",
                hint="use fabric='infiniband', 'roce' or 'ethernet'.",
            )
    else:
        bw, eff, _ = FABRICS[key]
        t_inter = 2 * (nodes - 1) / nodes * (grad_bytes / g) / (bw * 1e9 * eff)
        label = {"infiniband": "InfiniBand", "roce": "RoCE", "ethernet": "Ethernet"}[key]
    comm = t_intra + t_inter
    compute = (
        6 * spec.active_b * 1e9 * global_batch_tokens / (n * _peak_tflops(acc, dtype) * 1e12 * mfu)
    )
    return AllReduce(comm, compute, comm / (comm + compute), label, key)


# ---------------------------------------------------------------------------------------------
# Training memory

METHODS = ("full", "lora", "qlora")
# Optimizer state bytes per trainable parameter (mixed precision keeps an fp32 master copy, 4 B):
# AdamW's m and v in fp32 (8 B); bitsandbytes' 8-bit AdamW keeps m and v in 8 bits (2 B), which
# cuts these two states by 75% (bitsandbytes docs, "8-bit optimizers").
OPTIMIZER_BYTES = {"adamw": 12.0, "adamw_8bit": 6.0}
LORA_BASE_BYTES = {"bf16": 2.0, "int8": 1.0}  # the frozen base of a LoRA run, per param
MAX_SHARD_GPUS = 4096
LOGIT_BYTES = 10.0  # bf16 logits (2) + fp32 copy for the loss (4) + fp32 gradient (4)
FRAGMENTATION = 1.10  # allocator fragmentation / temporary buffers
QLORA_BYTES_PER_PARAM = 0.5 + 0.127 / 8  # NF4 (4 bits) + double-quantized constants (0.127 bits)


def lora_params(spec: ModelSpec, rank: int) -> float:
    """Trainable LoRA parameters on q, k, v, o and the MLP projections of every layer."""
    h, kv = spec.hidden_size, spec.kv_heads * spec.head_size
    q = spec.attention_heads * spec.head_size
    per_layer = rank * ((h + q) + 2 * (h + kv) + (q + h) + 3 * (h + spec.ffn_size))
    return per_layer * spec.layers


def training_memory(
    model: ModelRef,
    *,
    method: str = "full",
    num_gpus: int = 1,
    zero_stage: int = 0,
    micro_batch_size: int = 1,
    seq_len: int = 4096,
    activation_checkpointing: bool = False,
    lora_rank: int = 16,
    optimizer: str = "adamw",
    offload_optimizer: bool = False,
    sequence_parallel: int = 1,
    chunked_loss: bool = False,
    lora_base: str = "bf16",
    accelerator: str | None = None,
    device_memory_gb: float | None = None,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Peak memory per GPU for full fine-tuning (mixed-precision AdamW), LoRA or QLoRA.

    ``sequence_parallel`` splits each sequence over that many GPUs (DeepSpeed Ulysses, ring
    attention), dividing activations and logits; ``chunked_loss`` is a fused, chunked
    cross-entropy (Liger's fused linear cross-entropy) that never holds the whole logits.
    ``lora_base="int8"`` is LoRA over a base loaded in 8 bits (bitsandbytes LLM.int8, 1 B/param).

    Full: bf16 weights (2 B) + bf16 grads (2 B) + fp32 master, m, v (12 B) = 16 B/param,
    sharded by ZeRO stage (1: optimizer, 2: + grads, 3: + weights) over ``num_gpus``.
    ``optimizer="adamw_8bit"`` keeps m and v in 8 bits (6 B of optimizer state per param);
    ``offload_optimizer`` moves the optimizer states to CPU RAM (DeepSpeed ZeRO-Offload).
    When the peak does not fit the device, ``min_accelerators`` is the fewest GPUs that hold
    it with ZeRO-3 / FSDP full sharding, if up to 4096 do.
    Activations per layer per token ~ (6 h + 2 kv + 4 ffn) x 2 B (flash attention; no s^2 term),
    2 h bytes with full checkpointing; logits: tokens x vocab x 10 B.

    Example: Llama 3.1 8B full fine-tune, ZeRO-0: 8.03e9 x 16 B = 128 GB of states alone.
    """
    cat = catalog or load_catalog()
    resolved = resolve_model(model, cat)
    spec = resolved.spec
    method = checks.choice("method", method, METHODS)
    n = checks.count("num_gpus", num_gpus, upper=100_000)
    if zero_stage not in (0, 1, 2, 3):
        raise InvalidInputError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}.")
    mb = checks.count("micro_batch_size", micro_batch_size, upper=4096)
    s = checks.count("seq_len", seq_len, upper=10_000_000)
    r = checks.count("lora_rank", lora_rank, upper=4096)
    optimizer = checks.choice("optimizer", optimizer, tuple(OPTIMIZER_BYTES))
    opt_bytes = OPTIMIZER_BYTES[optimizer]
    p = spec.params_b * 1e9
    warnings = list(resolved.warnings)
    if method == "full":
        w_b, g_b, o_b = 2.0 * p, 2.0 * p, opt_bytes * p
        trainable = p
        shard_o = n if zero_stage >= 1 else 1
        shard_g = n if zero_stage >= 2 else 1
        shard_w = n if zero_stage >= 3 else 1
        weights, grads, optim = w_b / shard_w, g_b / shard_g, o_b / shard_o
        method_note = (
            "bf16 weights + bf16 grads + fp32 master/m/v (16 B/param)"
            if optimizer == "adamw"
            else "bf16 weights + bf16 grads + fp32 master + 8-bit m/v (10 B/param)"
        )
    else:
        trainable = lora_params(spec, r)
        if lora_base not in LORA_BASE_BYTES:
            raise InvalidInputError(
                f"lora_base must be one of {', '.join(LORA_BASE_BYTES)}, got {lora_base!r}."
            )
        base = p * (LORA_BASE_BYTES[lora_base] if method == "lora" else QLORA_BYTES_PER_PARAM)
        shard_w = n if zero_stage >= 3 else 1
        weights = base / shard_w + trainable * 2
        grads = trainable * 2
        optim = trainable * opt_bytes / (n if zero_stage >= 1 else 1)
        method_note = (
            f"frozen base in {lora_base if method == 'lora' else 'NF4 (~4.13 bits)'}, "
            f"rank-{r} adapters trained with 16 B/param"
        )
    h = spec.hidden_size
    kvd = spec.kv_heads * spec.head_size
    tokens = mb * s
    per_layer_token = (6 * h + 2 * kvd + 4 * spec.ffn_size) * 2.0
    if activation_checkpointing:
        acts = tokens * (spec.layers * 2 * h + per_layer_token)
    else:
        acts = tokens * spec.layers * per_layer_token
    logits = tokens * spec.vocab_size * LOGIT_BYTES
    sp = checks.count("sequence_parallel", sequence_parallel, upper=n)
    acts, logits = acts / sp, logits / sp
    if chunked_loss:
        logits = 0.0  # one chunk of the logits at a time: small next to the rest
    offloaded = 0.0
    if offload_optimizer:
        offloaded, optim = optim * (n if zero_stage >= 1 else 1), 0.0
    subtotal = weights + grads + optim + acts + logits
    total = subtotal * FRAGMENTATION + 1.0 * GB
    values = {
        "weights_gb": Quantity(label="Weights", value=weights / GB, unit="GB"),
        "gradients_gb": Quantity(label="Gradients", value=grads / GB, unit="GB"),
        "optimizer_gb": Quantity(label="Optimizer states", value=optim / GB, unit="GB"),
        "activations_gb": Quantity(label="Activations", value=acts / GB, unit="GB"),
        "logits_gb": Quantity(label="Logits and loss buffers", value=logits / GB, unit="GB"),
        "total_gb": Quantity(
            label="Peak per GPU",
            value=total / GB,
            unit="GB",
            low=subtotal / GB,
            high=total * 1.2 / GB,
        ),
        "trainable_params": Quantity(label="Trainable parameters", value=trainable),
    }
    if n > 1 and zero_stage >= 1:
        # "how much memory do I need at least?": the sharded job's memory over all its GPUs
        values["memory_gb"] = Quantity(
            label=f"All {n} GPUs together", value=total * n / GB, unit="GB"
        )
    if offload_optimizer:
        values["cpu_offload_gb"] = Quantity(
            label="Optimizer states in CPU RAM (all GPUs)", value=offloaded / GB, unit="GB"
        )
    if logits > 0.3 * subtotal:
        warnings.append(
            f"Logits of the {spec.vocab_size:,}-token vocabulary take "
            f"{fmt(logits / GB, 'GB')}: a bytes-per-parameter rule is far off here; use a "
            "chunked/fused cross-entropy or a smaller micro-batch."
        )
    refs = list(resolved.refs)
    what = fine_tuning_name(method)
    headline = (
        f"{what[0].upper()}{what[1:]} of {spec.name} "
        f"(ZeRO-{zero_stage}, {n} GPU{'s' if n > 1 else ''}, micro-batch {mb} x {s:,} tokens): "
        f"about {fmt(total / GB, 'GB')} per GPU"
    )
    alternatives: list[Alternative] = []
    settings = dict(
        method=method,
        num_gpus=n,
        zero_stage=zero_stage,
        micro_batch_size=mb,
        seq_len=s,
        activation_checkpointing=activation_checkpointing,
        lora_rank=r,
        optimizer=optimizer,
        offload_optimizer=offload_optimizer,
        sequence_parallel=sp,
        chunked_loss=chunked_loss,
        lora_base=lora_base,
    )
    if accelerator:
        acc = cat.accelerator(accelerator)
        refs.append(ref("accelerators", acc))
        fits = total / GB <= acc.memory_gb
        values["fits"] = Quantity(label=f"Fits {acc.name} ({acc.memory_gb:g} GB)", value=fits)
        headline += f" -> {'fits' if fits else 'does NOT fit'} on {acc.name}"
        if not fits:
            warnings.append(f"Does not fit in {acc.memory_gb:g} GB of {acc.name}.")
            _add_min_gpus(values, spec, cat, settings, acc.memory_gb)
            alternatives = _memory_alternatives(spec, cat, settings, acc.memory_gb, values)
    elif device_memory_gb is not None:
        mem = checks.positive("device_memory_gb", device_memory_gb, upper=4096)
        fits = total / GB <= mem
        values["fits"] = Quantity(label=f"Fits a {mem:g} GB GPU", value=fits)
        headline += f" -> {'fits' if fits else 'does NOT fit'} on a {mem:g} GB GPU"
        if not fits:
            warnings.append(f"Does not fit in {mem:g} GB.")
            _add_min_gpus(values, spec, cat, settings, mem)
            alternatives = _memory_alternatives(spec, cat, settings, mem, values)
    return ToolResult(
        tool="training_memory",
        headline=headline + ".",
        inputs={
            "model": spec.name,
            "method": method,
            "num_gpus": n,
            "zero_stage": zero_stage,
            "micro_batch_size": mb,
            "seq_len": s,
            "activation_checkpointing": activation_checkpointing,
            "lora_rank": r,
            "optimizer": optimizer,
            "offload_optimizer": offload_optimizer,
            "sequence_parallel": sp,
            "chunked_loss": chunked_loss,
            "lora_base": lora_base,
            "accelerator": accelerator,
        },
        values=values,
        formula=[
            f"states: {method_note}",
            "ZeRO-1 shards optimizer states, ZeRO-2 also gradients, ZeRO-3 also weights",
            "activations = tokens x layers x (6h + 2kv + 4ffn) x 2 B "
            "(checkpointed: tokens x (layers x 2h x 2 B + one layer))",
            f"logits = tokens x vocab x {LOGIT_BYTES:g} B",
            f"total = (states + activations + logits) x {FRAGMENTATION} + 1 GB CUDA context",
        ],
        assumptions=[
            *resolved.assumptions,
            "Mixed-precision AdamW; flash attention (no sequence-squared buffers).",
            "GB = 10^9 bytes.",
        ],
        refs=refs,
        warnings=warnings,
        alternatives=alternatives,
    )


def _min_gpus_zero3(
    spec: ModelSpec, cat: Catalog, settings: dict[str, Any], memory_gb: float
) -> int | None:
    """The fewest GPUs of ``memory_gb`` that hold the job with ZeRO-3 full sharding, or None.

    The per-GPU peak falls with the GPU count (states are divided, activations are not), so a
    binary search over 1..MAX_SHARD_GPUS finds the smallest count that fits."""

    def peak(count: int) -> float:
        sp = min(int(settings["sequence_parallel"]), count)
        args = {**settings, "num_gpus": count, "zero_stage": 3, "sequence_parallel": sp}
        return float(training_memory(spec, catalog=cat, **args)["total_gb"])

    if peak(MAX_SHARD_GPUS) > memory_gb:
        return None
    lo, hi = 1, MAX_SHARD_GPUS
    while lo < hi:
        mid = (lo + hi) // 2
        if peak(mid) <= memory_gb:
            hi = mid
        else:
            lo = mid + 1
    return lo


GPUS_PER_SERVER = 8  # HGX/DGX-class servers and the largest cloud GPU instances hold 8


def server_gpus(n: int) -> int:
    """The GPU count a minimum becomes when bought or rented: servers and cloud instances come
    with 1, 2, 4 or 8 GPUs, and beyond one server in whole 8-GPU servers (7 -> 8, 11 -> 16)."""
    if n <= 0:
        raise ValueError(f"GPU count must be positive, got {n}")
    if n <= GPUS_PER_SERVER:
        return next(c for c in (1, 2, 4, 8) if c >= n)
    return -(-n // GPUS_PER_SERVER) * GPUS_PER_SERVER


def _add_min_gpus(
    values: dict[str, Quantity],
    spec: ModelSpec,
    cat: Catalog,
    settings: dict[str, Any],
    memory_gb: float,
) -> None:
    need = _min_gpus_zero3(spec, cat, settings, memory_gb)
    if need is not None and need > int(settings["num_gpus"]):
        values["min_accelerators"] = Quantity(
            label="GPUs needed with ZeRO-3 / FSDP full sharding", value=need
        )
        practical = server_gpus(need)
        if practical != need:
            values["gpus"] = Quantity(
                label="As servers come (1, 2, 4 or 8 GPUs, then whole 8-GPU servers)",
                value=practical,
            )


# The one table of training-method names (the verdict and the headlines read it).
METHOD_NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


def fine_tuning_name(method: str) -> str:
    """'full fine-tuning', 'LoRA fine-tuning', 'QLoRA fine-tuning'."""
    name = METHOD_NAMES.get(method, method)
    return name if name.endswith("fine-tuning") else f"{name} fine-tuning"


def _memory_alternatives(
    spec: ModelSpec,
    cat: Catalog,
    base: dict[str, Any],
    memory_gb: float,
    values: dict[str, Quantity],
) -> list[Alternative]:
    """Changes that cut the per-GPU peak, cheapest first, each re-run through training_memory."""
    method, n, zero = base["method"], int(base["num_gpus"]), int(base["zero_stage"])
    options: list[tuple[str, dict[str, Any]]] = []
    if not base["activation_checkpointing"]:
        options.append(("activation checkpointing", dict(activation_checkpointing=True)))
    if zero < 3 and n > 1:
        options.append(("ZeRO-3 / FSDP", dict(zero_stage=3)))

    def current(key: str) -> float:
        return float(values[key].value)  # the run being changed, as the caller computed it

    acts_gb = current("activations_gb") + current("logits_gb")
    if not base["chunked_loss"] and current("logits_gb") > 0.1 * current("total_gb"):
        options.append(("a fused, chunked cross-entropy (Liger kernel)", dict(chunked_loss=True)))
    if n > 1 and base["sequence_parallel"] == 1 and acts_gb > 0.25 * current("total_gb"):
        options.append(
            (
                f"sequence parallelism over the {n} GPUs (DeepSpeed Ulysses or ring attention)",
                dict(sequence_parallel=n, chunked_loss=True, zero_stage=3),
            )
        )
    if method == "full" and base["optimizer"] == "adamw":
        options.append(("8-bit AdamW (bitsandbytes)", dict(optimizer="adamw_8bit")))
    if method == "full" and not base["offload_optimizer"]:
        options.append(
            (
                "ZeRO-3 with the optimizer states offloaded to CPU RAM",
                dict(zero_stage=3, offload_optimizer=True),
            )
        )
    need = values.get("min_accelerators")
    if need is not None:
        count = int(need.value)
        options.append((f"{count} GPUs with ZeRO-3 / FSDP", dict(num_gpus=count, zero_stage=3)))
    # over several GPUs the adapters' base weights are sharded too (FSDP + LoRA/QLoRA,
    # DeepSpeed ZeRO-3); a full copy on each GPU is what fails
    shard = dict(zero_stage=3) if n > 1 else {}
    over = f" sharded over the {n} GPUs (FSDP / ZeRO-3)" if n > 1 else ""
    if method == "full":
        options.append((f"LoRA{over}", dict(method="lora", **shard)))
    if method != "qlora":
        options.append(
            (f"QLoRA{over}", dict(method="qlora", activation_checkpointing=True, **shard))
        )
    seq, mb = int(base["seq_len"]), int(base["micro_batch_size"])
    if mb > 1 and acts_gb > 0.2 * current("total_gb"):
        options.append(
            (
                "micro-batch 1 with gradient accumulation (same effective batch)",
                dict(micro_batch_size=1),
            )
        )
    if seq > 512 and acts_gb > 0.2 * current("total_gb"):
        # activations and logits grow with the tokens per micro-batch: a shorter maximum
        # sequence (max_seq_length, cutoff_len, block_size) cuts them, if the data allows
        options.append(
            (
                f"a maximum sequence length of {seq // 2:,} tokens (max_seq_length / cutoff_len)",
                dict(seq_len=seq // 2),
            )
        )
    out = []
    for label, change in options:
        args = {**base, **change}
        res = training_memory(spec, catalog=cat, **args)
        gb = res["total_gb"]
        detail = f"{fmt(gb, 'GB')} per GPU ({'fits' if gb <= memory_gb else 'still too big'})"
        ram = res.values.get("cpu_offload_gb")
        if ram is not None:
            detail += f", with {fmt(float(ram.value), 'GB')} of optimizer states in CPU RAM"
        fits = 1.0 if gb <= memory_gb else 0.0
        out.append(Alternative(label=label, detail=detail, values={"total_gb": gb, "fits": fits}))
    return out
