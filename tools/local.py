"""The hardware people own: does a model fit, with what change, and how fast does one stream run.

Covers GPUs of any kind (by catalog name or by memory size), Apple unified memory, CPU-only
inference from system RAM and partial GPU/CPU offload (llama.cpp ``-ngl``), for one user at
batch 1, the way people run models locally.

Speed model (single stream, batch 1): decoding one token reads every active weight and the KV
cache once, and pays a fixed cost per token that does not shrink with the bytes (kernel
launches, synchronization, sampling):

    seconds per token = weights GB / (efficiency x format factor x bandwidth)
                        + KV GB / (efficiency x bandwidth) + fixed

With layers split across devices (llama.cpp's default layer split, or GPU + CPU offload) the
layers run one after another, so the byte times add. Prompt processing (prefill) is bound by
compute: tokens/s = prefill efficiency x peak FLOPS / (2 x active parameters).

The constants are fitted to published llama.cpp runs (``knowledge/catalog/speed-benchmarks.yaml``,
fit rows only; :mod:`advisor.tools.speedcal` reproduces the fit; docs/ESTIMATORS.md has the
data and the errors): per device class an efficiency and a fixed time, and one factor for the
arithmetic a quantized format spends per byte.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from . import checks
from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .memory import TIGHT_FRACTION, activation_bytes, kv_layout
from .models import (
    ModelRef,
    ModelSpec,
    bytes_per_param,
    embedding_params,
    normalize_dtype,
    resolve_model,
    weight_bytes,
)
from .quant import slow_half_precision, unsupported_on, weight_format
from .result import Alternative, CatalogRef, Quantity, ToolResult, fmt, ref
from .schema import Accelerator

GB = 1e9


@dataclass(frozen=True)
class DecodeFit:
    """One device class's single-stream decode constants (fitted, see speedcal.fit_decode)."""

    efficiency: float  # share of peak bandwidth reached on 16-bit weights
    fixed_ms: float  # per-token time that does not shrink with the bytes read
    prefill_efficiency: float  # share of the peak FLOPS figure reached on a 512-token prompt


# Fitted on the primary fit rows of speed-benchmarks.yaml (37 with a decode figure, 37 with a
# prompt figure; speedcal.calibrate, which a test re-runs), efficiencies and factors rounded
# to 0.01, fixed times to 0.1 ms. "gpu": discrete and integrated GPUs with
# GDDR/LPDDR memory; "gpu-hbm": datacenter GPUs with HBM, which llama.cpp's batch-1 kernels
# drive to a smaller share of their far higher bandwidth and tensor FLOPS.
DECODE_FITS = {
    "gpu": DecodeFit(efficiency=0.95, fixed_ms=1.3, prefill_efficiency=0.64),
    "gpu-hbm": DecodeFit(efficiency=0.65, fixed_ms=2.9, prefill_efficiency=0.31),
    "apple": DecodeFit(efficiency=0.82, fixed_ms=4.0, prefill_efficiency=0.66),
}
# Dequantizing costs arithmetic per byte: 4- to 6-bit block formats decode at this share of
# the byte rate 8- and 16-bit weights get, formats under 4 bits (Q2_K, Q3_K) at the second.
QUANT_DECODE_FACTOR = 0.83
LOW_BIT_DECODE_FACTOR = 0.32
LOW_BIT_BELOW = 4.0  # bits per weight
# Speed ranges: the 10th and 90th percentile of measured / central over the fit rows.
DECODE_BAND = (0.80, 1.08)
PREFILL_BAND = (0.34, 1.58)
# Hugging Face transformers' eager generate() at batch 1 pays Python and one kernel launch
# per operation on every token, about the same per layer on any GPU: Llama 2 7B (32 layers)
# in fp16 took 34 ms per token on an A10 (lmdeploy#210), 9 ms over this model's 25 ms, and
# FasterTransformer ran Vicuna-7B about 3x faster than transformers on an A100-80G at small
# batches (FasterTransformer#506), about 17 ms over this model's 13 ms: 0.28-0.53 ms a layer.
TRANSFORMERS_MS_PER_LAYER = (0.4, 0.53, 0.28)  # central, at the low speed, at the high speed
# CPUs: not refitted (no published CPU run with a known RAM configuration in the table);
# checked against llama.cpp#34 (13900K, DDR5-6400 dual channel: 0.68 on 7B Q4_0).
CPU_BW_EFFICIENCY = (0.6, 0.4, 0.75)


def decode_class(acc: Accelerator) -> str:
    """gpu | gpu-hbm | apple | cpu: which fitted constants a catalog accelerator takes."""
    if is_apple(acc):
        return "apple"
    if acc.kind == "cpu":
        return "cpu"
    return "gpu-hbm" if "HBM" in acc.memory_type.upper() else "gpu"


def format_decode_factor(bits: float) -> float:
    """1 for 8- and 16-bit weights, QUANT_DECODE_FACTOR for 4-6 bits, LOW_BIT under 4."""
    if bits >= 8:
        return 1.0
    return LOW_BIT_DECODE_FACTOR if bits < LOW_BIT_BELOW else QUANT_DECODE_FACTOR


def banded(fit: DecodeFit) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(central, low, high) efficiencies and fixed times: the band scales the whole time."""
    lo, hi = DECODE_BAND
    eff = (fit.efficiency, fit.efficiency * lo, fit.efficiency * hi)
    fixed = tuple(fit.fixed_ms / 1000 / f for f in (1.0, lo, hi))
    return eff, (fixed[0], fixed[1], fixed[2])


GPU_RESERVE_GB = 0.8  # CUDA/Metal context, compute buffers and the desktop, per device
OS_RESERVE_GB = 4.0  # system RAM kept for the OS and the engine process
# macOS lets the GPU wire about 2/3 of unified memory up to 36 GB and 3/4 above
# (Metal's recommendedMaxWorkingSetSize; raise it with `sudo sysctl iogpu.wired_limit_mb=N`).
APPLE_GPU_SHARE_SMALL = 2 / 3
APPLE_GPU_SHARE_LARGE = 0.75
APPLE_SHARE_THRESHOLD_GB = 36
DEFAULT_RAM = ("DDR4", 2, 3200)  # dual-channel DDR4-3200: 51.2 GB/s
RAM_SPAN_GB_S = (51.2, 102.4)  # dual-channel DDR4-3200 .. DDR5-6400, when the RAM is not said
DDR_DEFAULT_MT_S = {"DDR4": 3200, "DDR5": 5600, "LPDDR5": 6400, "LPDDR5X": 8533}
GENERIC_GPU_BW_GB_S = 400.0  # an unnamed GPU: a mid-range card (stated as an assumption)
QUANT_LADDER = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q3_k_m", "q2_k")  # llama.cpp / Ollama
# Engines that load Hugging Face checkpoints (transformers, TGI, vLLM) quantize differently:
# 8-bit (bitsandbytes LLM.int8 or FP8), then 4-bit GPTQ/AWQ or bitsandbytes NF4.
HF_QUANT_LADDER = ("int8", "awq", "nf4")
LADDERS = {"gguf": QUANT_LADDER, "hf": HF_QUANT_LADDER}
FOUR_BIT = {"gguf": "q4_k_m", "hf": "awq"}  # the usual 4-bit download of each family

Status = str  # "fits" | "fits_with_offload" | "needs_changes" | "does_not_fit"


@dataclass
class Pool:
    """Memory the model can live in: the accelerators and, for offload, the host RAM."""

    label: str
    kind: str  # gpu | apple | cpu
    count: int
    usable_gb: float  # per device
    bandwidth_gb_s: float  # per device
    flops: float | None  # per device, dense fp16/bf16 (fp32 where fp16 is a fraction of it)
    efficiency: tuple[float, float, float]  # (central, low, high) share of peak bandwidth
    refs: list[CatalogRef] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    decode_class: str = "cpu"  # gpu | gpu-hbm | apple | cpu (DECODE_FITS)
    # per-token time the engine adds on top (transformers' eager generate: Python and
    # one kernel launch per operation), (central, at the low speed, at the high speed)
    engine_s: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def total_gb(self) -> float:
        return self.usable_gb * self.count

    @property
    def fixed_s(self) -> tuple[float, float, float]:
        """Per-token fixed time, (central, at the low speed, at the high speed); 0 for CPUs."""
        fit = DECODE_FITS.get(self.decode_class)
        base = banded(fit)[1] if fit else (0.0, 0.0, 0.0)
        return (
            base[0] + self.engine_s[0],
            base[1] + self.engine_s[1],
            base[2] + self.engine_s[2],
        )

    @property
    def prefill_efficiency(self) -> float:
        fit = DECODE_FITS.get(self.decode_class)
        return fit.prefill_efficiency if fit else 0.0

    def format_factor(self, bits: float) -> float:
        """The dequantizing cost for the fitted classes; CPUs' efficiency already has it."""
        return format_decode_factor(bits) if self.decode_class in DECODE_FITS else 1.0


def ram_bandwidth_gb_s(kind: str | None, channels: int | None, mt_s: int | None) -> float:
    """Peak DRAM bandwidth: channels x MT/s x 8 bytes. Dual-channel DDR5-5600 = 89.6 GB/s."""
    kind = (kind or DEFAULT_RAM[0]).upper()
    ch = channels or DEFAULT_RAM[1]
    rate = mt_s or DDR_DEFAULT_MT_S.get(kind, DEFAULT_RAM[2])
    return ch * rate * 8 / 1000


def apple_gpu_share(memory_gb: float) -> float:
    return APPLE_GPU_SHARE_SMALL if memory_gb <= APPLE_SHARE_THRESHOLD_GB else APPLE_GPU_SHARE_LARGE


def is_apple(acc: Accelerator) -> bool:
    return acc.vendor.lower() == "apple"


def _peak_flops(acc: Accelerator) -> float | None:
    """The 16-bit figure; the FP32 one where FP16 is under a quarter of it (Pascal's 1/64
    rate), since llama.cpp then runs prompts through FP32 and int8 kernels instead."""
    half = acc.fp16_tflops or acc.bf16_tflops
    full = acc.fp32_tflops
    value = full if full and (not half or half < full / 4) else half
    return float(value) * 1e12 if value else None


def class_efficiency(cls: str) -> tuple[float, float, float]:
    """(central, low, high) bandwidth efficiency of a device class (DECODE_FITS, banded)."""
    fit = DECODE_FITS.get(cls)
    return banded(fit)[0] if fit else CPU_BW_EFFICIENCY


def accelerator_pool(
    acc: Accelerator, count: int, memory_gb: float | None, unified: float | None
) -> Pool:
    """The pool for ``count`` catalog accelerators (memory overridden by what the user said)."""
    assumptions: list[str] = []
    if is_apple(acc):
        total = unified or memory_gb or acc.memory_gb
        if unified is None and memory_gb is None:
            assumptions.append(f"{acc.name} with {total:g} GB unified memory (none given).")
        share = apple_gpu_share(total)
        assumptions.append(
            f"macOS lets the GPU use about {share:.0%} of {total:g} GB unified memory by default "
            "(recommendedMaxWorkingSetSize; `sudo sysctl iogpu.wired_limit_mb` raises it)."
        )
        return Pool(
            acc.name,
            "apple",
            1,
            total * share,
            acc.memory_bandwidth_gb_s,
            _peak_flops(acc),
            class_efficiency("apple"),
            [ref("accelerators", acc)],
            assumptions,
            decode_class="apple",
        )
    mem = memory_gb or acc.memory_gb
    label = acc.name
    if mem != acc.memory_gb:
        # the user's card has other memory than the catalogued row ("an 8GB RTX 3060")
        bare = " ".join(re.sub(r"\d+\s*GB\b", " ", acc.name).split())
        label = f"{bare} ({mem:g} GB)"
    return Pool(
        label,
        "gpu" if acc.kind != "cpu" else "cpu",
        count,
        max(0.5, mem - GPU_RESERVE_GB),
        acc.memory_bandwidth_gb_s,
        _peak_flops(acc),
        class_efficiency(decode_class(acc)),
        [ref("accelerators", acc)],
        assumptions,
        decode_class=decode_class(acc),
    )


def generic_gpu_pool(count: int, memory_gb: float) -> Pool:
    return Pool(
        f"{memory_gb:g} GB GPU",
        "gpu",
        count,
        max(0.5, memory_gb - GPU_RESERVE_GB),
        GENERIC_GPU_BW_GB_S,
        None,
        class_efficiency("gpu"),
        decode_class="gpu",
        assumptions=[
            f"An unnamed {memory_gb:g} GB GPU: speed figured at {GENERIC_GPU_BW_GB_S:g} GB/s "
            "(a mid-range card); name the card for a tighter figure."
        ],
    )


def apple_generic_pool(unified_gb: float) -> Pool:
    """A Mac whose chip was not named: bandwidth by the class its memory size implies."""
    bw, cls = (150.0, "M3 Pro") if unified_gb <= 36 else (400.0, "M-series Max")
    if unified_gb > 128:
        bw, cls = 800.0, "M-series Ultra"
    share = apple_gpu_share(unified_gb)
    return Pool(
        f"Mac with {unified_gb:g} GB",
        "apple",
        1,
        unified_gb * share,
        bw,
        None,
        class_efficiency("apple"),
        decode_class="apple",
        assumptions=[
            f"Apple chip not named: speed figured at {bw:g} GB/s ({cls} class).",
            f"macOS lets the GPU use about {share:.0%} of {unified_gb:g} GB unified memory by "
            "default (recommendedMaxWorkingSetSize; `sudo sysctl iogpu.wired_limit_mb` raises it).",
        ],
    )


def catalog_cpu_pool(cpu: Accelerator, ram_gb: float) -> Pool:
    """System RAM at the catalogued CPU's memory bandwidth (its own row, not a DDR default)."""
    return Pool(
        f"{cpu.name} ({ram_gb:g} GB RAM)",
        "cpu",
        1,
        max(0.0, ram_gb - OS_RESERVE_GB),
        float(cpu.memory_bandwidth_gb_s),
        None,
        CPU_BW_EFFICIENCY,
        refs=[ref("accelerators", cpu)],
        assumptions=[
            f"{cpu.name}: {cpu.memory_bandwidth_gb_s:g} GB/s peak memory bandwidth (catalog)."
        ],
    )


def cpu_pool(ram_gb: float, kind: str | None, channels: int | None, mt_s: int | None) -> Pool:
    bw = ram_bandwidth_gb_s(kind, channels, mt_s)
    k = (kind or DEFAULT_RAM[0]).upper()
    ch = channels or DEFAULT_RAM[1]
    rate = mt_s or DDR_DEFAULT_MT_S.get(k, DEFAULT_RAM[2])
    said = kind is not None and mt_s is not None
    notes = (
        []
        if said
        else [
            f"System RAM taken as {ch}-channel {k}-{rate} ({bw:g} GB/s peak); the speed range "
            "spans dual-channel DDR4-3200 to DDR5-6400 "
            f"({RAM_SPAN_GB_S[0]:g}-{RAM_SPAN_GB_S[1]:g} GB/s)."
        ]
    )
    eff = CPU_BW_EFFICIENCY
    if not said and kind is None:
        mid, low, high = CPU_BW_EFFICIENCY
        eff = (mid, low * RAM_SPAN_GB_S[0] / bw, high * RAM_SPAN_GB_S[1] / bw)
    return Pool(
        f"{ram_gb:g} GB system RAM",
        "cpu",
        1,
        max(0.0, ram_gb - OS_RESERVE_GB),
        bw,
        None,
        eff,
        assumptions=notes,
    )


@dataclass(frozen=True)
class Footprint:
    """Memory one sequence of ``context`` tokens needs, split into what spreads over layers."""

    weights_gb: float
    embed_gb: float  # part of the weights outside the repeated layers
    kv_gb: float
    compute_gb: float  # activations / compute buffer
    layers: int
    weight_bits: float = 16.0  # bits per weight of the format (sets the decode format factor)

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_gb + self.compute_gb

    @property
    def per_layer_gb(self) -> float:
        return (self.weights_gb - self.embed_gb + self.kv_gb) / self.layers


def footprint(spec: ModelSpec, dtype: str, kv_dtype: str, context: int, batch: int) -> Footprint:
    weights = weight_bytes(spec, dtype)
    fmt_ = weight_format(dtype)
    embed_bits = 16 if fmt_ is not None and fmt_.embeddings_16bit else bytes_per_param(dtype) * 8
    embed = min(embedding_params(spec) * embed_bits / 8, weights * 0.5)
    kv = kv_layout(spec, bytes_per_param(kv_dtype)).bytes_for(context) * batch
    # llama.cpp-style compute buffer: one ubatch (512 tokens) of activations + logits.
    compute = activation_bytes(spec, min(512, context) * batch) + batch * spec.vocab_size * 4
    bits = bytes_per_param(dtype) * 8
    return Footprint(weights / GB, embed / GB, kv / GB, compute / GB, spec.layers, bits)


def bytes_per_token_gb(spec: ModelSpec, fp: Footprint, context: int) -> float:
    """GB read to decode one token: active weights + the KV cache at half the context."""
    return weights_read_gb(spec, fp) + fp.kv_gb * 0.5


def weights_read_gb(spec: ModelSpec, fp: Footprint) -> float:
    """GB of weights one decode step reads: the active parameters only (MoE)."""
    return fp.weights_gb * spec.active_b / spec.params_b


def read_seconds(weights_gb: float, kv_gb: float, pool: Pool, bits: float, i: int = 0) -> float:
    """Time to stream these bytes from ``pool`` at band point ``i`` (0 central, 1 low, 2 high):
    weights at efficiency x format factor, the KV cache (16-bit) at the efficiency alone."""
    bw = pool.bandwidth_gb_s * pool.efficiency[i]
    return (weights_gb / pool.format_factor(bits) + kv_gb) / bw


@dataclass(frozen=True)
class Placement:
    status: Status
    gpu_layers: int  # layers on the accelerators (all = no offload)
    host_gb: float  # GB placed in system RAM


def place(fp: Footprint, gpu: Pool | None, host: Pool | None) -> Placement:
    """Put the model on the accelerators, offloading whole layers to host RAM if needed."""
    if gpu is not None and gpu.kind != "cpu":
        if fp.total_gb <= gpu.total_gb:
            return Placement("fits", fp.layers, 0.0)
        if host is None:
            return Placement("does_not_fit", 0, 0.0)
        room = gpu.total_gb - fp.embed_gb - fp.compute_gb
        on_gpu = max(0, min(fp.layers - 1, math.floor(room / fp.per_layer_gb)))
        host_gb = (fp.layers - on_gpu) * fp.per_layer_gb
        if host_gb <= host.total_gb:
            return Placement("fits_with_offload", on_gpu, host_gb)
        return Placement("does_not_fit", on_gpu, host_gb)
    pool = host if host is not None else gpu
    if pool is not None and fp.total_gb <= pool.total_gb:
        return Placement("fits", 0, fp.total_gb)
    return Placement("does_not_fit", 0, fp.total_gb)


def decode_parts(
    fp: Footprint, gpu: Pool | None, host: Pool | None, p: Placement
) -> list[tuple[float, Pool]]:
    """(share of the bytes per token, pool) for each device a token's layers run on."""
    if gpu is not None and gpu.kind != "cpu" and p.gpu_layers > 0:
        share_gpu = p.gpu_layers / fp.layers
        parts = [(share_gpu, gpu)]
        if host is not None and p.gpu_layers < fp.layers:
            parts.append((1 - share_gpu, host))
        return parts
    pool = host if host is not None else gpu
    assert pool is not None
    return [(1.0, pool)]


def decode_tokens_per_s(
    spec: ModelSpec, fp: Footprint, context: int, gpu: Pool | None, host: Pool | None, p: Placement
) -> tuple[float, float, float]:
    """(central, low, high) single-stream decode speed for placement ``p``.

    seconds per token = sum over devices of their bytes' read time (:func:`read_seconds`)
    + the largest fixed per-token time among them; the band's low end takes the low
    efficiency and the long fixed time, the high end the reverse."""
    weights, kv = weights_read_gb(spec, fp), fp.kv_gb * 0.5
    parts = decode_parts(fp, gpu, host, p)
    out = []
    for i in range(3):
        seconds = sum(
            read_seconds(weights * share, kv * share, pool, fp.weight_bits, i)
            for share, pool in parts
        )
        seconds += max(pool.fixed_s[i] for _, pool in parts)
        out.append(1 / seconds if seconds > 0 else math.inf)
    return out[0], out[1], out[2]


MAX_BATCH_SEARCH = 1024  # the largest batch tried to explain a reported throughput


def batched_tokens_per_s(
    spec: ModelSpec, dtype: str, kv_dtype: str, context: int, pool: Pool, batch: int
) -> tuple[float, float, float] | None:
    """(central, low, high) total decode tokens/s of ``batch`` streams decoded together on
    ``pool``, the model wholly in it; None when the batch's KV caches do not fit.

    Each step reads the active weights once and every stream's KV cache, does 2 x active
    params FLOPs per stream, and pays the per-token fixed time once (one step, one graph):
    step time = max(read time, 2 N B / (peak x prefill efficiency)) + fixed;
    total = B / step time. At B = 1 this is the single-stream speed."""
    fp = footprint(spec, dtype, kv_dtype, context, batch)
    if fp.total_gb > pool.total_gb:
        return None
    weights, kv = weights_read_gb(spec, fp), fp.kv_gb * 0.5
    flops_s = (
        2 * spec.active_b * 1e9 * batch / (pool.flops * pool.count * pool.prefill_efficiency)
        if pool.flops and pool.prefill_efficiency
        else 0.0
    )
    out = []
    for i in range(3):
        step = max(read_seconds(weights, kv, pool, fp.weight_bits, i), flops_s) + pool.fixed_s[i]
        out.append(batch / step if step > 0 else math.inf)
    return out[0], out[1], out[2]


def batch_reaching(
    spec: ModelSpec, dtype: str, kv_dtype: str, context: int, pool: Pool, tokens_per_s: float
) -> int | None:
    """The smallest batch whose total decode speed reaches ``tokens_per_s`` on ``pool``;
    None when no batch that fits in memory gets there (compute- or memory-bound first)."""

    def total(batch: int) -> float | None:
        got = batched_tokens_per_s(spec, dtype, kv_dtype, context, pool, batch)
        return None if got is None else got[0]

    lo, hi = 2, MAX_BATCH_SEARCH  # total speed grows with the batch while its KV caches fit
    if total(lo) is None:
        return None
    if total(hi) is None:  # the largest batch that fits: total(fits) set, total(over) None
        fits, over = lo, hi
        while over - fits > 1:
            mid = (fits + over) // 2
            fits, over = (fits, mid) if total(mid) is None else (mid, over)
        hi = fits
    if (total(hi) or 0.0) < tokens_per_s:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if (total(mid) or 0.0) >= tokens_per_s:
            hi = mid
        else:
            lo = mid + 1
    return lo


def prefill_tokens_per_s(spec: ModelSpec, pool: Pool | None) -> float | None:
    """Prompt tokens/s: prefill efficiency x peak FLOPS / (2 x active parameters)."""
    if pool is None or pool.flops is None or not pool.prefill_efficiency:
        return None
    return pool.flops * pool.count * pool.prefill_efficiency / (2 * spec.active_b * 1e9)


@dataclass
class Hardware:
    gpu: Pool | None
    host: Pool | None

    @property
    def refs(self) -> list[CatalogRef]:
        return [r for pool in (self.gpu, self.host) if pool is not None for r in pool.refs]

    @property
    def assumptions(self) -> list[str]:
        return [a for pool in (self.gpu, self.host) if pool is not None for a in pool.assumptions]

    @property
    def label(self) -> str:
        parts = []
        if self.gpu is not None:
            parts.append(
                f"{self.gpu.count} x {self.gpu.label}" if self.gpu.count > 1 else self.gpu.label
            )
        if self.host is not None and (self.gpu is None or self.gpu.kind == "gpu"):
            parts.append(self.host.label)
        return " + ".join(parts) or "no hardware"


def describe_hardware(
    cat: Catalog,
    *,
    accelerator: str | None,
    num_accelerators: int | None,
    device_memory_gb: float | None,
    system_ram_gb: float | None,
    unified_memory_gb: float | None,
    cpu_only: bool,
    ram_kind: str | None,
    ram_channels: int | None,
    ram_mt_s: int | None,
) -> Hardware:
    n = checks.count("num_accelerators", num_accelerators or 1, upper=1024)
    mem = (
        checks.positive("device_memory_gb", device_memory_gb, upper=4096)
        if (device_memory_gb is not None)
        else None
    )
    ram = (
        checks.positive("system_ram_gb", system_ram_gb, upper=65536)
        if (system_ram_gb is not None)
        else None
    )
    uni = (
        checks.positive("unified_memory_gb", unified_memory_gb, upper=4096)
        if (unified_memory_gb is not None)
        else None
    )
    gpu: Pool | None = None
    board: Accelerator | None = None  # a CPU from the catalog (Raspberry Pi 5, Xeon 8480)
    if accelerator and cat.accelerator(accelerator).kind == "cpu":
        board, cpu_only = cat.accelerator(accelerator), True
        if ram is None:
            ram = float(board.memory_gb)
    if not cpu_only:
        if accelerator:
            acc = cat.accelerator(accelerator)
            gpu = accelerator_pool(acc, n, mem, uni)
        elif uni is not None:
            gpu = apple_generic_pool(uni)
        elif mem is not None:
            gpu = generic_gpu_pool(n, mem)
    host: Pool | None = None
    if gpu is None or gpu.kind == "gpu":
        if ram is not None and board is not None and ram_kind is None and ram_mt_s is None:
            host = catalog_cpu_pool(board, ram)
        elif ram is not None:
            host = cpu_pool(ram, ram_kind, ram_channels, ram_mt_s)
        elif gpu is None:
            raise InvalidInputError(
                "No hardware given.",
                hint="name an accelerator, a GPU memory size, a Mac's unified memory or the "
                "system RAM for CPU-only inference.",
            )
    return Hardware(gpu, host)


RAM_SIZES_GB = (8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


def run_on_hardware(
    model: ModelRef,
    *,
    dtype: str = "bf16",
    kv_dtype: str | None = None,
    context_tokens: int | None = None,
    batch_size: int = 1,
    accelerator: str | None = None,
    num_accelerators: int | None = None,
    device_memory_gb: float | None = None,
    system_ram_gb: float | None = None,
    unified_memory_gb: float | None = None,
    cpu_only: bool = False,
    ram_kind: str | None = None,
    ram_channels: int | None = None,
    ram_mt_s: int | None = None,
    assume_offload: bool = False,
    formats: str = "gguf",
    memory_fraction: float | None = None,
    offload: bool = True,
    offload_setting: str = "llama.cpp -ngl",
    observed_tokens_per_s: float | None = None,
    eager_engine: bool = False,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Does ``model`` run on this hardware, and how fast is one stream? With the cheapest change.

    Example: Llama 2 70B in Q4_K_M (4.9 bits per weight) on 2 x RTX 3090: weights
    68.98e9 x 4.9 / 8 = 42.2 GB + KV 4,096 tokens x 327,680 B = 1.3 GB, against
    2 x (24 - 0.8) = 46.4 GB usable -> fits; a token reads 42.2 GB of weights and 0.67 GB of
    KV: 42.2 / (0.95 x 0.83 x 936 GB/s) + 0.67 / (0.95 x 936) + 1.3 ms fixed = 0.059 s ->
    about 17 tokens/s (layer split: the cards take turns).

    ``memory_fraction`` is the share of each GPU the engine may take (vLLM
    --gpu-memory-utilization 0.5 on a 24 GB card: 12 GB for weights, cache and buffers).
    ``offload=False`` is an engine that keeps the whole model on the GPUs (TGI, ExLlama,
    TensorRT-LLM): nothing is placed in system RAM and no offload is offered.
    ``offload_setting`` names the engine's offload option in the advice.
    ``eager_engine`` is Hugging Face transformers' generate(): each token also pays
    TRANSFORMERS_MS_PER_LAYER per layer of Python and kernel-launch time.
    With ``batch_size`` > 1, the total decode speed of that many streams decoded together is
    added; ``observed_tokens_per_s`` (a speed the user measured) well above one stream adds the
    smallest batch that reaches it (a benchmark's total over many streams, not one stream).
    """
    cat = catalog or load_catalog()
    resolved = resolve_model(model, cat)
    spec = resolved.spec
    dtype = normalize_dtype(dtype)
    kv_dt = normalize_dtype(kv_dtype) if kv_dtype else "fp16"
    assumptions = list(resolved.assumptions)
    warnings = list(resolved.warnings)
    if context_tokens is None:
        context = min(spec.max_context, 4096)
        assumptions.append(f"Context {context:,} tokens (none given).")
    else:
        context = checks.count("context_tokens", context_tokens, upper=10_000_000)
    batch = checks.count("batch_size", batch_size, upper=4096)
    if cpu_only and system_ram_gb is None and unified_memory_gb is None:
        # "how fast on an Intel Core Ultra 7?": the speed does not depend on how much RAM,
        # only on its bandwidth, so the smallest usual size that holds the model
        need = footprint(spec, dtype, kv_dt, context, batch).total_gb + OS_RESERVE_GB
        system_ram_gb = next((g for g in RAM_SIZES_GB if g >= need), math.ceil(need))
        assumptions.append(
            f"System RAM not given: assumed {system_ram_gb:g} GB, enough to hold the model "
            "(the speed depends on its bandwidth, not its size)."
        )
    hw = describe_hardware(
        cat,
        accelerator=accelerator,
        num_accelerators=num_accelerators,
        device_memory_gb=device_memory_gb,
        system_ram_gb=system_ram_gb,
        unified_memory_gb=unified_memory_gb,
        cpu_only=cpu_only,
        ram_kind=ram_kind,
        ram_channels=ram_channels,
        ram_mt_s=ram_mt_s,
    )
    refs = [*resolved.refs, *hw.refs]
    assumptions += hw.assumptions
    if memory_fraction is not None and hw.gpu is not None and hw.gpu.kind == "gpu":
        share = checks.positive("memory_fraction", memory_fraction, upper=1.0)
        device = hw.gpu.usable_gb + GPU_RESERVE_GB
        hw.gpu.usable_gb = device * share
        assumptions.append(
            f"The engine may use {share:g} of each {device:g} GB GPU "
            f"({fmt(hw.gpu.usable_gb, 'GB')}; vLLM --gpu-memory-utilization)."
        )
    if not offload and hw.gpu is not None:
        if hw.host is not None:
            assumptions.append(
                "The engine keeps the whole model in GPU memory: system RAM does not count."
            )
        hw.host = None
    fp = footprint(spec, dtype, kv_dt, context, batch)
    if eager_engine and hw.gpu is not None and hw.gpu.kind != "cpu":
        per_layer = TRANSFORMERS_MS_PER_LAYER
        hw.gpu.engine_s = (
            per_layer[0] * fp.layers / 1000,
            per_layer[1] * fp.layers / 1000,
            per_layer[2] * fp.layers / 1000,
        )
        assumptions.append(
            f"transformers' generate() adds about {TRANSFORMERS_MS_PER_LAYER[0]:g} ms per layer "
            f"to every token ({TRANSFORMERS_MS_PER_LAYER[0] * fp.layers:.0f} ms for "
            f"{fp.layers} layers) for Python and kernel launches; vLLM, llama.cpp or ExLlama "
            "run closer to the memory-bandwidth bound."
        )
    if (
        assume_offload
        and hw.host is None
        and hw.gpu is not None
        and hw.gpu.kind == "gpu"
        and fp.total_gb > hw.gpu.total_gb
    ):
        # The user runs it (they report a speed), so what the GPU cannot hold sits in RAM.
        hw.host = cpu_pool(math.ceil(fp.total_gb + OS_RESERVE_GB), ram_kind, ram_channels, ram_mt_s)
        assumptions.append(
            "System RAM not given: assumed large enough to hold the offloaded layers."
        )
    placement = place(fp, hw.gpu, hw.host)
    values = _values(spec, fp, hw, placement, context, dtype)
    formulas_extra: list[str] = []
    unsupported = (
        unsupported_on(cat.accelerator(accelerator), dtype)
        if accelerator and hw.gpu is not None
        else None
    )
    if unsupported:
        warnings.append(unsupported + ".")
        values["format_supported"] = Quantity(
            label=f"{dtype.upper()} compute on {hw.gpu.label if hw.gpu else accelerator}",
            value=False,
        )
    four_bit = FOUR_BIT.get(formats, "q4_k_m")
    if (
        placement.status != "does_not_fit"
        and bytes_per_param(dtype) > bytes_per_param(four_bit) * 1.5
        and "decode_tokens_per_s" in values
    ):
        # one stream reads every weight once per token: fewer bytes, proportionally faster
        fp4 = footprint(spec, four_bit, kv_dt, context, batch)
        p4 = place(fp4, hw.gpu, hw.host)
        if p4.status != "does_not_fit":
            mid4, _, _ = decode_tokens_per_s(spec, fp4, context, hw.gpu, hw.host, p4)
            values["decode_4bit_tokens_per_s"] = Quantity(
                label=f"Decode speed in {_format_label(four_bit)}", value=mid4, unit="tokens/s"
            )
    if observed_tokens_per_s is not None:
        checks.positive("observed_tokens_per_s", observed_tokens_per_s, upper=1e7)
    values.update(
        _batched(spec, dtype, kv_dt, context, batch, hw, placement, observed_tokens_per_s)
    )
    slow_half = (
        slow_half_precision(cat.accelerator(accelerator), dtype)
        if accelerator and hw.gpu is not None and not unsupported
        else None
    )
    if slow_half:
        warnings.append(slow_half + ".")
        values["half_precision_note"] = Quantity(label="16-bit compute", value=slow_half)
        assert accelerator is not None  # a slow-FP16 note is only made for a named card
        capped = _half_compute_cap(spec, cat.accelerator(accelerator), hw, placement, values)
        if capped is not None:
            formulas_extra.append(capped)
    if bytes_per_param(dtype) < 2:
        bf16 = footprint(spec, "bf16", kv_dt, context, batch)
        values["memory_bf16_gb"] = Quantity(
            label="Memory needed in bf16", value=bf16.total_gb, unit="GB"
        )
    if formats not in LADDERS:
        raise InvalidInputError(
            f"formats must be one of {', '.join(LADDERS)}, got {formats!r}.",
            hint="gguf for llama.cpp/Ollama, hf for transformers, TGI and vLLM.",
        )
    alternatives = _changes(
        spec,
        dtype,
        kv_dt,
        context,
        batch,
        hw,
        fp,
        placement,
        LADDERS[formats],
        offload_setting if offload else None,
    )
    headline = _headline(spec, dtype, hw, fp, placement, values)
    if placement.status == "does_not_fit":
        warnings.append(f"Does not fit on {hw.label}.")
    if (
        hw.gpu is not None
        and hw.gpu.kind == "gpu"
        and hw.gpu.count > 1
        and fp.total_gb <= hw.gpu.usable_gb
    ):
        values["fits_one_device"] = Quantity(
            label="Fits on one of the cards",
            value=(
                f"it fits on one card ({fmt(fp.total_gb, 'GB')} of {fmt(hw.gpu.usable_gb, 'GB')}):"
                " run it on a single GPU (llama.cpp --main-gpu or CUDA_VISIBLE_DEVICES=0); "
                "splitting a model that fits one GPU adds synchronization overhead to every "
                "token and no bandwidth to one stream"
            ),
        )
    if hw.gpu is not None and hw.gpu.count > 1 and placement.status != "does_not_fit":
        assumptions.append(
            "Layers split across the cards (llama.cpp/Ollama default): the cards take turns, so "
            "one stream runs at about the speed of one card; tensor parallelism (vLLM, "
            "ExLlamaV2 TP) can be faster over NVLink and gains little over PCIe."
        )
    formula = [
        f"weights = {spec.params_b:g}e9 params x {bytes_per_param(dtype) * 8:.3g} bits / 8 "
        f"({dtype}{'; embeddings in 16 bits' if fp.embed_gb and _embed16(dtype) else ''})",
        f"KV cache = {context:,} tokens x {kv_layout(spec, bytes_per_param(kv_dt)).formula}",
        *decode_formula(spec, fp, hw, placement),
    ]
    if "decode_batch_tokens_per_s" in values:
        formula.append(
            "batch B: total tokens/s = B / (max(GB read per step / (bandwidth x efficiency), "
            "2 x active params x B / (prefill efficiency x peak FLOPS)) + fixed per step); a "
            "step reads the weights once and every stream's KV cache"
        )
    assumptions += [
        f"Weights in {dtype}, KV cache in {kv_dt}; batch {batch}"
        + (" (one user)." if batch == 1 else " streams decoded together."),
        f"{GPU_RESERVE_GB:g} GB per GPU kept for the CUDA context and buffers; "
        f"{OS_RESERVE_GB:g} GB of system RAM for the OS.",
        "GB = 10^9 bytes.",
    ]
    return ToolResult(
        tool="run_on_hardware",
        headline=headline,
        inputs={
            "model": spec.name,
            "dtype": dtype,
            "kv_dtype": kv_dt,
            "context_tokens": context,
            "batch_size": batch,
            "hardware": hw.label,
            "accelerators": (
                f"{hw.gpu.count} x {hw.gpu.label}"
                if hw.gpu and hw.gpu.count > 1
                else hw.gpu.label
                if hw.gpu
                else None
            ),
        },
        values=values,
        formula=formula + formulas_extra,
        assumptions=assumptions,
        refs=refs,
        warnings=warnings,
        alternatives=alternatives,
    )


BATCHED_SLACK = 1.5  # a reported speed this far above one stream's high end is a batch total


def _batched(
    spec: ModelSpec,
    dtype: str,
    kv_dt: str,
    context: int,
    batch: int,
    hw: Hardware,
    p: Placement,
    observed: float | None,
) -> dict[str, Quantity]:
    """Total decode speed at the user's batch, or the batch that explains their figure."""
    pool = hw.gpu if hw.gpu is not None and hw.gpu.kind != "cpu" else hw.host
    if p.status != "fits" or pool is None:
        return {}  # offloaded layers: the host's bandwidth sets the pace, batch or not
    values: dict[str, Quantity] = {}
    if batch == 1 and observed is not None:
        fp1 = footprint(spec, dtype, kv_dt, context, 1)
        _, _, high = decode_tokens_per_s(spec, fp1, context, hw.gpu, hw.host, p)
        if observed <= high * BATCHED_SLACK:
            return {}
        found = batch_reaching(spec, dtype, kv_dt, context, pool, observed)
        if found is None:
            values["batch_for_observed"] = Quantity(
                label=f"Batch that reaches {fmt(observed, 'tokens/s')}",
                value="none that fits in memory",
            )
            return values
        batch = found
        values["batch_for_observed"] = Quantity(
            label=f"Streams decoded together to reach {fmt(observed, 'tokens/s')}", value=batch
        )
    if batch > 1:
        got = batched_tokens_per_s(spec, dtype, kv_dt, context, pool, batch)
        if got is not None:
            values["decode_batch_tokens_per_s"] = Quantity(
                label=f"Decode throughput, batch {batch} (all streams)",
                value=got[0],
                unit="tokens/s",
                low=got[1],
                high=got[2],
            )
    return values


def decode_formula(spec: ModelSpec, fp: Footprint, hw: Hardware, p: Placement) -> list[str]:
    """The speed formula lines with this hardware's fitted constants written out."""
    lines = [
        "decode seconds per token = weights GB / (efficiency x format factor x bandwidth) "
        "+ KV GB / (efficiency x bandwidth) + fixed per-token time (kernel launches, sync, "
        "sampling); layers on several devices add their byte times"
    ]
    if p.status != "does_not_fit":
        weights, kv = weights_read_gb(spec, fp), fp.kv_gb * 0.5
        for share, pool in decode_parts(fp, hw.gpu, hw.host, p):
            lines.append(
                f"{pool.label}: {weights * share:.3g} GB / ({pool.efficiency[0]:.2f} x "
                f"{pool.format_factor(fp.weight_bits):.2f} x {pool.bandwidth_gb_s:g} GB/s)"
                f" + {kv * share:.2g} GB KV + {pool.fixed_s[0] * 1000:.2g} ms fixed"
                f" ({_class_note(pool)})"
            )
    main = hw.gpu if hw.gpu is not None and p.gpu_layers else hw.host
    if main is not None and main.flops and main.prefill_efficiency:
        lines.append(
            f"prefill tokens/s = {main.prefill_efficiency:.2f} x peak FLOPS / (2 x active params)"
        )
    return lines


def _class_note(pool: Pool) -> str:
    if pool.decode_class not in DECODE_FITS:
        return "CPU efficiency checked on llama.cpp#34; no fixed time fitted"
    return f"{pool.decode_class} constants fitted to published llama.cpp runs"


def _embed16(dtype: str) -> bool:
    fmt_ = weight_format(dtype)
    return bool(fmt_ and fmt_.embeddings_16bit)


def _values(
    spec: ModelSpec, fp: Footprint, hw: Hardware, p: Placement, context: int, dtype: str
) -> dict[str, Quantity]:
    values = {
        "weights_gb": Quantity(label="Weights", value=fp.weights_gb, unit="GB"),
        "kv_cache_gb": Quantity(label=f"KV cache ({context:,} tokens)", value=fp.kv_gb, unit="GB"),
        "memory_gb": Quantity(
            label="Memory needed",
            value=fp.total_gb,
            unit="GB",
            low=fp.weights_gb + fp.kv_gb,
            high=fp.total_gb * 1.1,
        ),
    }
    if hw.gpu is not None and hw.gpu.kind != "cpu":
        values["device_memory_gb"] = Quantity(
            label=f"Usable on {hw.gpu.count} x {hw.gpu.label}", value=hw.gpu.total_gb, unit="GB"
        )
    if hw.host is not None:
        values["system_ram_usable_gb"] = Quantity(
            label="Usable system RAM", value=hw.host.total_gb, unit="GB"
        )
    values["fits"] = Quantity(label="Fits", value=p.status in ("fits", "fits_with_offload"))
    if p.status == "fits" and tight_fit(fp, hw, dtype) and hw.gpu is not None:
        values["headroom_gb"] = Quantity(
            label="Left for a longer context or the engine's buffers",
            value=hw.gpu.total_gb - fp.total_gb,
            unit="GB",
        )
    values["status"] = Quantity(label="Status", value=p.status)
    if p.status == "fits_with_offload":
        values["gpu_layers"] = Quantity(label=f"Layers on GPU (of {fp.layers})", value=p.gpu_layers)
        values["offloaded_gb"] = Quantity(
            label="Offloaded to system RAM", value=p.host_gb, unit="GB"
        )
    if p.status != "does_not_fit":
        mid, low, high = decode_tokens_per_s(spec, fp, context, hw.gpu, hw.host, p)
        values["decode_tokens_per_s"] = Quantity(
            label="Decode speed, one stream", value=mid, unit="tokens/s", low=low, high=high
        )
        main = hw.gpu if hw.gpu is not None and p.gpu_layers else hw.host
        pre = prefill_tokens_per_s(spec, main)
        if pre is not None:
            values["prefill_tokens_per_s"] = Quantity(
                label="Prompt processing",
                value=pre,
                unit="tokens/s",
                low=pre * PREFILL_BAND[0],
                high=pre * PREFILL_BAND[1],
            )
    values["bytes_per_token_gb"] = Quantity(
        label="Read per generated token", value=bytes_per_token_gb(spec, fp, context), unit="GB"
    )
    return values


def _half_compute_cap(
    spec: ModelSpec, acc: Accelerator, hw: Hardware, p: Placement, values: dict[str, Quantity]
) -> str | None:
    """On a card whose FP16 runs at a fraction of FP32 (Pascal's 1/64), a format computed in
    half precision (GPTQ, AWQ, EXL2, FP16 in transformers or vLLM) is bound by that compute,
    not by memory bandwidth: one token is 2 x active params FLOPs at the FP16 rate x the
    prefill efficiency. Caps the decode figure in ``values``; returns its formula line."""
    speed = values.get("decode_tokens_per_s")
    if speed is None or not acc.fp16_tflops or hw.gpu is None or p.status != "fits":
        return None
    eff = hw.gpu.prefill_efficiency or 0.5
    cap = acc.fp16_tflops * 1e12 * hw.gpu.count * eff / (2 * spec.active_b * 1e9)
    if cap >= float(speed.value):
        return None
    values["decode_tokens_per_s"] = Quantity(
        label="Decode speed, one stream (bound by FP16 compute)",
        value=cap,
        unit="tokens/s",
        low=cap * 0.7,
        high=cap * 1.2,
    )
    return (
        f"decode <= FP16 {acc.fp16_tflops:g} TFLOPS x {eff:.2f} / (2 x {spec.active_b:g}B "
        f"active params) = {cap:.3g} tokens/s (half-precision kernels on a slow-FP16 card)"
    )


def _headline(
    spec: ModelSpec,
    dtype: str,
    hw: Hardware,
    fp: Footprint,
    p: Placement,
    values: dict[str, Quantity],
) -> str:
    need = fmt(fp.total_gb, "GB")
    have = values.get("device_memory_gb") or values.get("system_ram_usable_gb")
    have_txt = f" of {fmt(float(have.value), 'GB')} usable" if have else ""
    speed = values.get("decode_tokens_per_s")
    speed_txt = f", about {fmt(float(speed.value), 'tokens/s')} for one stream" if speed else ""
    if p.status == "fits":
        return f"{spec.name} in {dtype} fits on {hw.label}: needs {need}{have_txt}{speed_txt}."
    if p.status == "fits_with_offload":
        return (
            f"{spec.name} in {dtype} needs {need}; on {hw.label} it runs with "
            f"{fp.layers - p.gpu_layers} of {fp.layers} layers offloaded to system RAM"
            f"{speed_txt}."
        )
    return f"{spec.name} in {dtype} needs {need} and does NOT fit on {hw.label}{have_txt}."


def _format_label(key: str) -> str:
    fmt_ = weight_format(key)
    return fmt_.label.replace("GGUF ", "") if fmt_ else key.upper()


QUALITY_FLOOR_BITS = 4.1  # 4-bit formats (GPTQ/AWQ 4.16, NF4 4.13, Q4_K_M 4.9) and above;
# below that (Q3_K_M 4.0, Q2_K 3.35) quality drops faster


def tight_fit(fp: Footprint, hw: Hardware, dtype: str) -> bool:
    """Fits on the accelerators with less than TIGHT_FRACTION of their usable memory to spare.

    GGUF files are exempt: llama.cpp allocates the KV cache for the context it is given and
    little else, so the footprint already counts it. Transformers, ExLlama, TGI and vLLM also
    need prefill buffers and room to batch."""
    if hw.gpu is None or hw.gpu.kind != "gpu":
        return False  # a Mac's usable share already leaves macOS its quarter
    fmt_ = weight_format(dtype)
    if fmt_ is not None and fmt_.family == "gguf":
        return False
    spare = hw.gpu.total_gb - fp.total_gb
    return 0 <= spare < TIGHT_FRACTION * hw.gpu.total_gb


def _changes(
    spec: ModelSpec,
    dtype: str,
    kv_dtype: str,
    context: int,
    batch: int,
    hw: Hardware,
    asked: Footprint,
    p: Placement,
    ladder: tuple[str, ...] = QUANT_LADDER,
    offload: str | None = "llama.cpp -ngl",
) -> list[Alternative]:
    """Changes that make it run (or run on the accelerators alone), cheapest first.

    ``asked`` is the footprint in ``dtype`` at ``context``, placed as ``p``.
    Rank: a format of at least ~4.5 bits that fits on the accelerators; the same with layers
    offloaded to system RAM; a lower format; a shorter context; more cards.
    """
    if p.status == "fits" and not tight_fit(asked, hw, dtype):
        return []
    ranked: list[tuple[int, Alternative]] = []
    current = bytes_per_param(dtype)
    seen_gpu = seen_offload = False
    # offloaded, the smallest format of good quality (Q4_K_M) is what people run: each byte
    # left in system RAM costs far more time than a bit of precision
    good_formats = [q for q in ladder if bytes_per_param(q) * 8 >= QUALITY_FLOOR_BITS]
    smallest_good = min(good_formats, key=bytes_per_param) if good_formats else None
    smallest_runs = (
        smallest_good is not None
        and place(footprint(spec, smallest_good, kv_dtype, context, batch), hw.gpu, hw.host).status
        != "does_not_fit"
    )
    for q in ladder:
        if bytes_per_param(q) >= current:
            continue
        fp = footprint(spec, q, kv_dtype, context, batch)
        good = q in good_formats
        alone = place(fp, hw.gpu, None)
        if not seen_gpu and alone.status == "fits" and hw.gpu is not None:
            mid, _, _ = decode_tokens_per_s(spec, fp, context, hw.gpu, None, alone)
            ranked.append(
                (
                    0 if good else 3,
                    Alternative(
                        label=f"quantize to {_format_label(q)}",
                        detail=f"{fmt(fp.total_gb, 'GB')}, fits on {hw.label}; "
                        f"about {fmt(mid, 'tokens/s')}",
                        values={"memory_gb": fp.total_gb, "decode_tokens_per_s": mid, "dtype": q},
                    ),
                )
            )
            seen_gpu = True
        both = place(fp, hw.gpu, hw.host)
        # also when the format asked runs offloaded: a smaller file keeps more layers on the
        # GPU, so it runs faster
        fewer = p.status == "fits_with_offload" and both.gpu_layers > p.gpu_layers
        larger_than_needed = (
            smallest_runs
            and smallest_good is not None
            and bytes_per_param(q) > bytes_per_param(smallest_good)
        )
        if (
            not seen_offload
            and not larger_than_needed
            and both.status == "fits_with_offload"
            and (p.status == "does_not_fit" or fewer)
        ):
            mid, _, _ = decode_tokens_per_s(spec, fp, context, hw.gpu, hw.host, both)
            off = fp.layers - both.gpu_layers
            ranked.append(
                (
                    1 if good else 3,
                    Alternative(
                        label=f"quantize to {_format_label(q)} and offload {off} of "
                        f"{fp.layers} layers to system RAM",
                        detail=f"{fmt(fp.total_gb, 'GB')} in all; about {fmt(mid, 'tokens/s')}",
                        values={"memory_gb": fp.total_gb, "decode_tokens_per_s": mid, "dtype": q},
                    ),
                )
            )
            seen_offload = True
    if (
        offload
        and p.status == "does_not_fit"
        and hw.host is None
        and hw.gpu is not None
        and hw.gpu.kind == "gpu"
    ):
        # No RAM given: the smallest format of good quality, with what the cards cannot hold
        # in system RAM (what llama.cpp users do), then the precision as asked, offloaded.
        small = [q for q in ladder if bytes_per_param(q) * 8 >= QUALITY_FLOOR_BITS]
        pick = min(small, key=bytes_per_param) if small else None
        good_alone = any(a.values.get("dtype") in small for r, a in ranked if r == 0)
        if pick is not None and bytes_per_param(pick) < current and not good_alone:
            q = pick
            fp = footprint(spec, q, kv_dtype, context, batch)
            ram = math.ceil(fp.total_gb - hw.gpu.total_gb + OS_RESERVE_GB)
            ranked.append(
                (
                    2,
                    Alternative(
                        label=f"quantize to {_format_label(q)} and offload what the GPU cannot "
                        f"hold to system RAM (at least {fmt(ram, 'GB')} of RAM; {offload})",
                        detail=f"{fmt(fp.total_gb, 'GB')} in all; slower per token than on "
                        "the GPU alone",
                        values={"memory_gb": fp.total_gb, "dtype": q},
                    ),
                )
            )
        ranked.append(
            (
                4,
                Alternative(
                    label="offload layers to system RAM",
                    detail="with at least "
                    f"{fmt(asked.total_gb - hw.gpu.total_gb + OS_RESERVE_GB, 'GB')} "
                    f"of RAM ({offload}); much slower per token",
                ),
            )
        )
    if p.status == "fits" and context > 2048:
        fp = footprint(spec, dtype, kv_dtype, 2048, batch)
        ranked.append(
            (
                1,
                Alternative(
                    label="keep the context to 2,048 tokens",
                    detail=f"{fmt(fp.total_gb, 'GB')}, "
                    f"{fmt(hw.gpu.total_gb - fp.total_gb if hw.gpu else 0.0, 'GB')} to spare",
                    values={"memory_gb": fp.total_gb},
                ),
            )
        )
    if context > 4096 and p.status != "fits":
        # the longest shorter window that fits on the accelerators alone; first when the KV
        # cache is a large share of the memory (a 32K window on a 7B): it costs no quality
        kv_heavy = asked.kv_gb >= 0.5 * asked.weights_gb
        for window in (131072, 65536, 32768, 16384, 8192, 4096):
            if window >= context:
                continue
            fp = footprint(spec, dtype, kv_dtype, window, batch)
            alone = place(fp, hw.gpu, None) if hw.gpu is not None else place(fp, None, hw.host)
            if alone.status == "fits":
                ranked.append(
                    (
                        0 if kv_heavy else 4,
                        Alternative(
                            label=f"shorten the context to {window:,} tokens",
                            detail=f"{fmt(fp.total_gb, 'GB')}, KV cache {fmt(fp.kv_gb, 'GB')}",
                            values={"memory_gb": fp.total_gb, "context_tokens": window},
                        ),
                    )
                )
                break
    if hw.gpu is not None and hw.gpu.kind == "gpu":
        need = math.ceil(asked.total_gb / hw.gpu.usable_gb)
        if hw.gpu.count < need <= 16:
            ranked.append(
                (
                    6,
                    Alternative(
                        label=f"use {need} x {hw.gpu.label}",
                        detail=f"{fmt(asked.total_gb, 'GB')} across {need} cards",
                        values={"gpus": need},
                    ),
                )
            )
    return [alt for _, alt in sorted(ranked, key=lambda x: x[0])]


def models_for_hardware(
    *,
    dtype: str = "q4_k_m",
    context_tokens: int = 4096,
    accelerator: str | None = None,
    num_accelerators: int | None = None,
    device_memory_gb: float | None = None,
    system_ram_gb: float | None = None,
    unified_memory_gb: float | None = None,
    cpu_only: bool = False,
    ram_kind: str | None = None,
    ram_channels: int | None = None,
    ram_mt_s: int | None = None,
    top: int = 5,
    catalog: Catalog | None = None,
) -> ToolResult:
    """Which catalogued open models run on this hardware: the largest that fit, and with offload.

    Every catalogued LLM is placed as in :func:`run_on_hardware` (``dtype`` weights, a
    ``context_tokens`` context, one stream); rows are ranked by parameter count.
    """
    cat = catalog or load_catalog()
    dtype = normalize_dtype(dtype)
    context = checks.count("context_tokens", context_tokens, upper=10_000_000)
    top = checks.count("top", top, upper=100)
    hw = describe_hardware(
        cat,
        accelerator=accelerator,
        num_accelerators=num_accelerators,
        device_memory_gb=device_memory_gb,
        system_ram_gb=system_ram_gb,
        unified_memory_gb=unified_memory_gb,
        cpu_only=cpu_only,
        ram_kind=ram_kind,
        ram_channels=ram_channels,
        ram_mt_s=ram_mt_s,
    )
    rows: list[dict[str, object]] = []
    for m in sorted(cat.models, key=lambda m: -m.params_b):
        if m.kind != "llm":
            continue
        spec = ModelSpec.from_catalog(m)
        fp = footprint(spec, dtype, "fp16", min(context, spec.max_context), 1)
        p = place(fp, hw.gpu, hw.host)
        if p.status == "does_not_fit":
            continue
        mid, _, _ = decode_tokens_per_s(spec, fp, context, hw.gpu, hw.host, p)
        rows.append(
            {
                "model": m.name,
                "params_b": m.params_b,
                "memory_gb": round(fp.total_gb, 1),
                "placement": "all on GPU"
                if p.status == "fits" and hw.gpu
                else (
                    "system RAM"
                    if p.gpu_layers == 0
                    else f"{p.gpu_layers}/{fp.layers} layers on GPU"
                ),
                "tokens_per_s": round(mid, 1),
            }
        )
    full = [r for r in rows if r["placement"] in ("all on GPU", "system RAM")]
    offload = [r for r in rows if r not in full]
    refs = hw.refs
    assumptions = [
        f"Weights in {dtype}, KV cache in fp16, {context:,}-token context, one stream.",
        *hw.assumptions,
    ]
    values: dict[str, Quantity] = {
        "models_fit": Quantity(label="Catalogued models that fit fully", value=len(full)),
    }
    warnings: list[str] = []
    if accelerator and hw.gpu is not None and dtype in ("bf16", "fp16"):
        slow_half = slow_half_precision(cat.accelerator(accelerator), dtype)
        if slow_half:
            warnings.append(slow_half + ".")
            values["half_precision_note"] = Quantity(label="16-bit compute", value=slow_half)
    if hw.gpu is not None and hw.gpu.kind != "cpu":
        values["device_memory_gb"] = Quantity(
            label=f"Usable by the GPU on {hw.label}", value=hw.gpu.total_gb, unit="GB"
        )
    if full:
        values["largest_fit_b"] = Quantity(
            label="Largest that fits fully", value=float(str(full[0]["params_b"])), unit="B params"
        )
    if offload:
        values["largest_offload_b"] = Quantity(
            label="Largest with CPU offload",
            value=float(str(offload[0]["params_b"])),
            unit="B params",
        )
    names = ", ".join(f"{r['model']} ({fmt(float(str(r['memory_gb'])), 'GB')})" for r in full[:3])
    headline = f"On {hw.label} in {dtype}: " + (
        f"the largest catalogued models that fit are {names}"
        if full
        else "no catalogued model fits fully"
    )
    if offload:
        headline += f"; with layers offloaded to RAM up to {offload[0]['model']}"
    return ToolResult(
        tool="models_for_hardware",
        headline=headline + ".",
        inputs={"dtype": dtype, "context_tokens": context, "hardware": hw.label},
        values=values,
        formula=["each model placed as in run_on_hardware; ranked by parameters"],
        assumptions=assumptions,
        refs=refs,
        warnings=warnings,
        table=(full[:top] + offload[:2]) or None,
    )
