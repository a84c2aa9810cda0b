"""Serving: a roofline model of prefill (compute-bound) and decode (bandwidth-bound)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .memory import CUDA_CONTEXT_GB, TP_SIZES, USABLE_MEMORY_FRACTION, kv_layout
from .models import (
    COMPUTE_FIELD,
    ModelRef,
    ModelSpec,
    bytes_per_param,
    normalize_dtype,
    resolve_model,
)
from .result import Alternative, Quantity, ToolResult, fmt, ref
from .schema import Accelerator

GB = 1e9
PREFILL_EFFICIENCY = 0.50  # achieved share of peak FLOPS during prefill
DECODE_BW_EFFICIENCY = 0.70  # achieved share of peak memory bandwidth during decode
COMPUTE_EFFICIENCY = 0.50
TP_SCALING = 0.90  # per doubling of tensor parallelism (all-reduce cost)
MIN_USEFUL_CONCURRENCY = 16  # a replica chosen automatically must hold this many sequences


@dataclass(frozen=True)
class Roofline:
    ttft_s: float
    tpot_s: float
    tokens_per_s: float
    requests_per_s: float
    batch: int


def _flops_peak(acc: Accelerator, dtype: str) -> float:
    field = COMPUTE_FIELD.get(dtype)
    value = getattr(acc, field, None) if field else None
    if value is None:  # int4 / GGUF weights dequantize to bf16/fp16 for the matmuls
        value = acc.bf16_tflops or acc.fp16_tflops or acc.fp32_tflops or acc.int8_tops
    if value is None:  # only fp8/fp4 figures published (MI355X, GB300...)
        raise InvalidInputError(
            f"{acc.name} has no catalogued {dtype} throughput.",
            hint="its sources give fp8/fp4 figures only: pass dtype='fp8'.",
        )
    return float(value) * 1e12


def _tp_eff(tp: int) -> float:
    return TP_SCALING ** math.log2(tp) if tp > 1 else 1.0


def expert_weight_fraction(spec: ModelSpec, batch: int) -> float:
    """Share of routed-expert weights read in one decode step for ``batch`` sequences.

    Each token picks k of E experts; the chance an expert is untouched by the batch is
    (1 - k/E)^batch.
    """
    if not spec.is_moe or not spec.experts or not spec.active_experts:
        return 1.0
    k, e = spec.active_experts, spec.experts
    return 1 - (1 - k / e) ** batch


def roofline(
    spec: ModelSpec,
    acc: Accelerator,
    *,
    tp: int,
    dtype: str,
    kv_dtype: str,
    prompt_tokens: int,
    output_tokens: int,
    batch: int,
) -> Roofline:
    peak = _flops_peak(acc, dtype) * tp * _tp_eff(tp)
    bw = acc.memory_bandwidth_gb_s * 1e9 * tp * _tp_eff(tp)
    active = spec.active_b * 1e9
    # Prefill: 2 N flops per token + causal attention 2 x 2 x L x s^2/2 x (heads x head_dim).
    attn = 2 * spec.layers * prompt_tokens**2 * spec.attention_heads * spec.head_size
    prefill_flops = 2 * active * prompt_tokens + attn
    ttft = prefill_flops / (peak * PREFILL_EFFICIENCY)
    # Decode: read the weights once per step (experts touched by the batch) + every KV cache.
    wbytes = bytes_per_param(dtype)
    if spec.is_moe:
        # P = shared + X and A = shared + X k/E  =>  X = (P - A) E / (E - k)
        expert_total = (
            (spec.params_b - spec.active_b)
            * 1e9
            * (spec.experts or 1)
            / max(1, (spec.experts or 1) - (spec.active_experts or 1))
        )
        shared = spec.params_b * 1e9 - expert_total
        weights_read = (shared + expert_total * expert_weight_fraction(spec, batch)) * wbytes
    else:
        weights_read = spec.params_b * 1e9 * wbytes
    layout = kv_layout(spec, bytes_per_param(kv_dtype))
    avg_ctx = prompt_tokens + output_tokens // 2
    kv_read = layout.bytes_for(avg_ctx) * batch
    t_mem = (weights_read + kv_read) / (bw * DECODE_BW_EFFICIENCY)
    t_cmp = 2 * active * batch / (peak * COMPUTE_EFFICIENCY)
    tpot = max(t_mem, t_cmp)
    tokens_per_s = batch / tpot
    # Each request costs its prefill plus its share of decode steps.
    per_request_s = ttft + output_tokens * tpot / batch
    return Roofline(ttft, tpot, tokens_per_s, 1 / per_request_s, batch)


def max_concurrency(
    spec: ModelSpec, acc: Accelerator, *, tp: int, dtype: str, kv_dtype: str, tokens_per_seq: int
) -> int:
    usable = acc.memory_gb * USABLE_MEMORY_FRACTION * GB * tp
    weights = spec.params_b * 1e9 * bytes_per_param(dtype)
    overhead = (CUDA_CONTEXT_GB * GB + 2 * GB) * tp  # context + activation reserve
    layout = kv_layout(spec, bytes_per_param(kv_dtype))
    per_seq = layout.bytes_for(tokens_per_seq)
    kv_split = 1 if spec.attention == "mla" else min(tp, spec.kv_heads)
    per_seq_total = per_seq * tp / kv_split  # replicated KV heads cost memory on every rank
    free = usable - weights - overhead
    return max(0, int(free // per_seq_total))


def auto_tp(
    spec: ModelSpec,
    acc: Accelerator,
    *,
    dtype: str,
    kv_dtype: str,
    tokens_per_seq: int,
    want: int = MIN_USEFUL_CONCURRENCY,
    max_tp: int = 64,
) -> int | None:
    """Smallest tensor-parallel size that holds the weights plus KV for ``want`` sequences."""
    for tp in TP_SIZES:
        if tp > max_tp:
            break
        cap = max_concurrency(
            spec, acc, tp=tp, dtype=dtype, kv_dtype=kv_dtype, tokens_per_seq=tokens_per_seq
        )
        if cap >= want:
            return tp
    return None


def best_throughput(
    spec: ModelSpec,
    acc: Accelerator,
    *,
    count: int,
    dtype: str,
    prompt_tokens: int,
    output_tokens: int,
) -> tuple[int, Roofline] | None:
    """Throughput-oriented layout of ``count`` accelerators: TP size and one replica's roofline."""
    tokens = prompt_tokens + output_tokens
    tp = auto_tp(spec, acc, dtype=dtype, kv_dtype="bf16", tokens_per_seq=tokens, max_tp=count)
    if tp is None:
        tp = auto_tp(
            spec, acc, dtype=dtype, kv_dtype="bf16", tokens_per_seq=tokens, want=1, max_tp=count
        )
        if tp is None:
            return None
    cap = max_concurrency(spec, acc, tp=tp, dtype=dtype, kv_dtype="bf16", tokens_per_seq=tokens)
    rl = roofline(
        spec,
        acc,
        tp=tp,
        dtype=dtype,
        kv_dtype="bf16",
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        batch=max(1, min(cap, 256)),
    )
    return tp, rl


def serving_estimate(
    model: ModelRef,
    accelerator: str,
    *,
    num_accelerators: int | None = None,
    dtype: str = "bf16",
    kv_dtype: str | None = None,
    prompt_tokens: int = 1000,
    output_tokens: int = 250,
    concurrency: int | None = None,
    target_requests_per_s: float | None = None,
    target_tokens_per_s: float | None = None,
    ttft_slo_s: float | None = None,
    tpot_slo_ms: float | None = None,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Latency and throughput of one replica, and replicas needed for a target load.

    Prefill: TTFT = (2 N s + attention) / (peak FLOPS x 0.5).
    Decode: time per output token = max(bytes read / (bandwidth x 0.7), 2 N B / (peak x 0.5)).

    Example: Llama 3.1 8B bf16 on one H100 SXM (3,350 GB/s), batch 1: 16.06 GB / (3,350e9 x
    0.7) = 6.8 ms per token, about 146 tokens/s.
    """
    cat = catalog or load_catalog()
    resolved = resolve_model(model, cat)
    spec = resolved.spec
    acc = cat.accelerator(accelerator)
    dtype = normalize_dtype(dtype)
    kv_dt = normalize_dtype(kv_dtype) if kv_dtype else ("fp8" if dtype == "fp8" else "bf16")
    p_tok = checks.count("prompt_tokens", prompt_tokens, upper=10_000_000)
    o_tok = checks.count("output_tokens", output_tokens, upper=1_000_000)
    warnings = list(resolved.warnings)
    if p_tok + o_tok > spec.max_context:
        warnings.append(
            f"{p_tok + o_tok:,} tokens exceed the model's context {spec.max_context:,}."
        )
    want = min(concurrency or MIN_USEFUL_CONCURRENCY, MIN_USEFUL_CONCURRENCY)
    if num_accelerators is None:
        tp = auto_tp(
            spec, acc, dtype=dtype, kv_dtype=kv_dt, tokens_per_seq=p_tok + o_tok, want=want
        )
        if tp is None:
            raise InvalidInputError(
                f"{spec.name} in {dtype} does not fit on 64 x {acc.name}.",
                hint="quantize (dtype='int4') or choose an accelerator with more memory.",
            )
    else:
        tp = checks.count("num_accelerators", num_accelerators, upper=4096)
    one_card = (
        tp > 1
        and auto_tp(spec, acc, dtype=dtype, kv_dtype=kv_dt, tokens_per_seq=p_tok + o_tok, want=1)
        == 1
    )
    cap = max_concurrency(
        spec, acc, tp=tp, dtype=dtype, kv_dtype=kv_dt, tokens_per_seq=p_tok + o_tok
    )
    if cap < 1:
        raise InvalidInputError(
            f"{spec.name} in {dtype} leaves no room for a {p_tok + o_tok:,}-token KV cache on "
            f"{tp} x {acc.name}.",
            hint="add accelerators, quantize, or shorten the context.",
        )
    if concurrency is not None:
        batch = checks.count("concurrency", concurrency, upper=1_000_000)
        if batch > cap:
            warnings.append(
                f"Concurrency {batch} exceeds the KV-cache capacity of {cap} sequences; "
                "requests will queue."
            )
            batch = cap
    else:
        batch = cap
        if tpot_slo_ms is not None:
            slo = checks.positive("tpot_slo_ms", tpot_slo_ms) / 1000
            while (
                batch > 1
                and roofline(
                    spec,
                    acc,
                    tp=tp,
                    dtype=dtype,
                    kv_dtype=kv_dt,
                    prompt_tokens=p_tok,
                    output_tokens=o_tok,
                    batch=batch,
                ).tpot_s
                > slo
            ):
                batch = max(1, int(batch * 0.8))
        batch = min(batch, 256)  # engines' default max_num_seqs
    rl = roofline(
        spec,
        acc,
        tp=tp,
        dtype=dtype,
        kv_dtype=kv_dt,
        prompt_tokens=p_tok,
        output_tokens=o_tok,
        batch=batch,
    )
    single = roofline(
        spec,
        acc,
        tp=tp,
        dtype=dtype,
        kv_dtype=kv_dt,
        prompt_tokens=p_tok,
        output_tokens=o_tok,
        batch=1,
    )
    values: dict[str, Quantity] = {
        "tensor_parallel": Quantity(label="Accelerators per replica (TP)", value=tp),
        "max_concurrency": Quantity(label="Max concurrent sequences (KV budget)", value=cap),
        "batch": Quantity(label="Concurrency modelled", value=batch),
        "ttft_s": Quantity(
            label="Time to first token",
            value=rl.ttft_s,
            unit="s",
            low=rl.ttft_s * 0.6,
            high=rl.ttft_s * 2,
        ),
        "tpot_ms": Quantity(
            label="Time per output token",
            value=rl.tpot_s * 1000,
            unit="ms",
            low=rl.tpot_s * 700,
            high=rl.tpot_s * 1500,
        ),
        "tpot_ms_batch1": Quantity(
            label="Time per output token at batch 1", value=single.tpot_s * 1000, unit="ms"
        ),
        "tokens_per_s_per_stream": Quantity(
            label="One stream at batch 1", value=1 / single.tpot_s, unit="tok/s"
        ),
        "tokens_per_s": Quantity(
            label="Output tokens/s per replica",
            value=rl.tokens_per_s,
            unit="tok/s",
            low=rl.tokens_per_s / 1.5,
            high=rl.tokens_per_s * 1.4,
        ),
        "requests_per_s": Quantity(
            label="Requests/s per replica", value=rl.requests_per_s, unit="req/s"
        ),
    }
    if one_card:
        nvlink = bool(acc.interconnect_name and "nvlink" in acc.interconnect_name.lower())
        cost = (
            f"even over {acc.interconnect_name} this communication takes part of every step"
            if nvlink
            else "over PCIe without NVLink this communication can cost more than the split saves"
        )
        note = (
            f"{spec.name} fits on one {acc.name}: with tensor parallelism {tp}, every layer "
            f"all-reduces its activations across the {tp} GPUs (twice per layer, each token); "
            f"{cost}; for throughput, {tp} replicas of one GPU each (data parallel, behind a "
            "load balancer) usually serve more"
        )
        values["tensor_parallel_note"] = Quantity(
            label="Tensor parallel on a model that fits one GPU", value=note
        )
        warnings.append(note + ".")
    headline = (
        f"{spec.name} ({dtype}) on {tp} x {acc.name}: TTFT ~{fmt(rl.ttft_s, 's')}, "
        f"{fmt(rl.tpot_s * 1000, 'ms')}/token, ~{fmt(rl.tokens_per_s, 'tok/s')} at "
        f"{batch} concurrent sequences (max {cap} by KV cache)"
    )
    if ttft_slo_s is not None and rl.ttft_s > checks.positive("ttft_slo_s", ttft_slo_s):
        warnings.append(
            f"TTFT {fmt(rl.ttft_s, 's')} misses the {ttft_slo_s:g} s target: shorten prompts, "
            "use more tensor parallelism or a faster accelerator."
        )
    if tpot_slo_ms is not None and rl.tpot_s * 1000 > tpot_slo_ms:
        warnings.append(f"Per-token latency misses the {tpot_slo_ms:g} ms target even at batch 1.")
    replicas = None
    if target_requests_per_s is not None:
        t = checks.positive("target_requests_per_s", target_requests_per_s, upper=1e7)
        replicas = math.ceil(t / rl.requests_per_s)
    if target_tokens_per_s is not None:
        t = checks.positive("target_tokens_per_s", target_tokens_per_s, upper=1e9)
        replicas = max(replicas or 0, math.ceil(t / rl.tokens_per_s))
    if replicas is not None:
        values["replicas"] = Quantity(label="Replicas for the target", value=replicas)
        values["accelerators_total"] = Quantity(label="Accelerators in total", value=replicas * tp)
        headline += f"; {replicas} replica(s) = {replicas * tp} x {acc.name} for the target"
    alternatives = []
    if dtype in ("bf16", "fp16"):
        try:
            q = serving_estimate(
                spec,
                acc.id,
                dtype="fp8" if acc.fp8_tflops else "int8",
                prompt_tokens=p_tok,
                output_tokens=o_tok,
                catalog=cat,
            )
            alternatives.append(
                Alternative(
                    label=f"Quantize to {q.inputs['dtype']}",
                    detail=q.headline,
                    values={"tokens_per_s": q["tokens_per_s"]},
                )
            )
        except InvalidInputError:
            pass
    return ToolResult(
        tool="serving_estimate",
        headline=headline + ".",
        inputs={
            "model": spec.name,
            "accelerator": acc.id,
            "num_accelerators": tp,
            "dtype": dtype,
            "kv_dtype": kv_dt,
            "prompt_tokens": p_tok,
            "output_tokens": o_tok,
            "concurrency": concurrency,
            "target_requests_per_s": target_requests_per_s,
            "target_tokens_per_s": target_tokens_per_s,
        },
        values=values,
        formula=[
            "TTFT = (2 x N_active x prompt + 2 x layers x prompt^2 x heads x head_dim) / "
            f"(TP x peak FLOPS x {PREFILL_EFFICIENCY})",
            "time/token = max((weights read + KV read) / "
            f"(TP x bandwidth x {DECODE_BW_EFFICIENCY}),"
            f" 2 x N_active x batch / (TP x peak x {COMPUTE_EFFICIENCY}))",
            "requests/s = 1 / (TTFT + output tokens x time/token / batch)",
            f"TP efficiency {TP_SCALING} per doubling; "
            "max concurrency = free memory / KV per sequence",
        ],
        assumptions=[
            *resolved.assumptions,
            f"Prompt {p_tok:,} and output {o_tok:,} tokens per request.",
            "Continuous batching engine (vLLM/TensorRT-LLM class); no speculative decoding.",
            f"Weights {dtype}, KV cache {kv_dt}.",
        ],
        refs=[*resolved.refs, ref("accelerators", acc)],
        warnings=warnings,
        alternatives=alternatives,
    )
