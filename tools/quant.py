"""Weight and KV-cache formats with their real storage cost: bits per weight, not nominal bits.

A 4-bit format is never 4.0 bits on disk or in memory: block scales, zero points and layers
kept in 16 bits add to it. Each format here carries the effective bits per weight and where
that figure comes from.

- GGUF (llama.cpp): file size of Llama-3-8B (8.03e9 parameters) per quant type, as printed by
  llama.cpp's ``quantize`` tool (GiB), converted: bits = GiB x 2^30 x 8 / 8.03e9. The legacy
  block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) follow from their block layout: 32 weights plus one
  fp16 scale (and a min for the _1 types).
- GPTQ / AWQ, 4-bit, group size 128: 4 bits + one fp16 scale and one packed 4-bit zero point per
  128 weights = 4 + 20/128 = 4.156 bits; embeddings and the output head stay in fp16.
- bitsandbytes NF4 (QLoRA): 4 bits + the block constants; with double quantization those cost
  8/64 + 32/(64 x 256) = 0.127 bits per weight (QLoRA paper, section 3); embeddings and the
  output head stay in 16 bits.
- MXFP4 (OCP Microscaling): 4-bit elements sharing one 8-bit scale per 32 = 4.25 bits.
- EXL2: any average bits per weight the user names ("4.65bpw").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

LLAMA3_8B_PARAMS = 8.03e9
GIB = 2**30


@dataclass(frozen=True)
class WeightFormat:
    key: str
    label: str
    bits: float
    family: str  # float | int | gguf | gptq | bnb | mx | exl2
    embeddings_16bit: bool = False  # embeddings + output head stored in 16 bits
    source: str = ""


def _gguf_bits(gib: float) -> float:
    return gib * GIB * 8 / LLAMA3_8B_PARAMS


_QUANTIZE_CPP = "llama.cpp tools/quantize/quantize.cpp (sizes at Llama-3-8B)"
_GGML_BLOCKS = "ggml block layout (32 weights + fp16 scale per block)"
_GPTQ = "GPTQ/AWQ group quantization: 4 bits + fp16 scale + 4-bit zero per 128 weights"

FORMATS: dict[str, WeightFormat] = {
    f.key: f
    for f in (
        WeightFormat("fp32", "FP32", 32, "float"),
        WeightFormat("tf32", "TF32", 32, "float"),
        WeightFormat("bf16", "BF16", 16, "float"),
        WeightFormat("fp16", "FP16", 16, "float"),
        WeightFormat("fp8", "FP8", 8, "float"),
        WeightFormat("int8", "INT8", 8, "int"),
        WeightFormat("int4", "INT4", 4, "int"),
        WeightFormat("fp4", "FP4", 4, "float"),
        WeightFormat("q8_0", "GGUF Q8_0", 8.5, "gguf", source=_GGML_BLOCKS),
        WeightFormat("q6_k", "GGUF Q6_K", _gguf_bits(6.14), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q5_k_m", "GGUF Q5_K_M", _gguf_bits(5.33), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q5_k_s", "GGUF Q5_K_S", _gguf_bits(5.21), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q5_1", "GGUF Q5_1", 6.0, "gguf", source=_GGML_BLOCKS),
        WeightFormat("q5_0", "GGUF Q5_0", 5.5, "gguf", source=_GGML_BLOCKS),
        WeightFormat("q4_k_m", "GGUF Q4_K_M", _gguf_bits(4.58), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q4_k_s", "GGUF Q4_K_S", _gguf_bits(4.37), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q4_1", "GGUF Q4_1", 5.0, "gguf", source=_GGML_BLOCKS),
        WeightFormat("q4_0", "GGUF Q4_0", 4.5, "gguf", source=_GGML_BLOCKS),
        WeightFormat("iq4_nl", "GGUF IQ4_NL", 4.5, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq4_xs", "GGUF IQ4_XS", 4.25, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q3_k_l", "GGUF Q3_K_L", _gguf_bits(4.03), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q3_k_m", "GGUF Q3_K_M", _gguf_bits(3.74), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("q3_k_s", "GGUF Q3_K_S", _gguf_bits(3.41), "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq3_m", "GGUF IQ3_M", 3.66, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq3_xxs", "GGUF IQ3_XXS", 3.06, "gguf", source=_QUANTIZE_CPP),
        # Q2_K: 2.63 GiB at LLaMA-v1-7B (6.74e9 parameters) in the same table.
        WeightFormat("q2_k", "GGUF Q2_K", 2.63 * GIB * 8 / 6.74e9, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq3_s", "GGUF IQ3_S", 3.44, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq3_xs", "GGUF IQ3_XS", 3.3, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq2_m", "GGUF IQ2_M", 2.7, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq2_s", "GGUF IQ2_S", 2.5, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq2_xs", "GGUF IQ2_XS", 2.31, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq2_xxs", "GGUF IQ2_XXS", 2.06, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq1_m", "GGUF IQ1_M", 1.75, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("iq1_s", "GGUF IQ1_S", 1.56, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("tq2_0", "GGUF TQ2_0 (ternary)", 2.06, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("tq1_0", "GGUF TQ1_0 (ternary)", 1.69, "gguf", source=_QUANTIZE_CPP),
        WeightFormat("gptq", "GPTQ 4-bit (g128)", 4 + 20 / 128, "gptq", True, _GPTQ),
        WeightFormat("awq", "AWQ 4-bit (g128)", 4 + 20 / 128, "gptq", True, _GPTQ),
        WeightFormat(
            "nf4",
            "NF4 (bitsandbytes, double quant)",
            4 + 8 / 64 + 32 / (64 * 256),
            "bnb",
            True,
            "QLoRA paper (arXiv 2305.14314), double quantization: 0.127 bits per weight",
        ),
        WeightFormat(
            "mxfp4", "MXFP4", 4 + 8 / 32, "mx", source="OCP Microscaling spec: 8-bit scale per 32"
        ),
    )
}

_ALIASES = {
    "float32": "fp32",
    "f32": "fp32",
    "float16": "fp16",
    "f16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "16bit": "bf16",
    "16-bit": "bf16",
    "8bit": "int8",
    "8-bit": "int8",
    "llm.int8": "int8",
    "4bit": "int4",
    "4-bit": "int4",
    "qlora": "nf4",
    "bnb4": "nf4",
    "bnb-4bit": "nf4",
    "nvfp4": "fp4",
    "e4m3": "fp8",
    "q4_k": "q4_k_m",
    "q5_k": "q5_k_m",
    "q3_k": "q3_k_m",
    "q8": "q8_0",
    "q4": "q4_0",
    "q6": "q6_k",
    "q5": "q5_k_m",
    "q3": "q3_k_m",
    "q2": "q2_k",
    "q2_k_s": "q2_k",
    # Unsloth's dynamic quants ("UD-Q2_K_XL") mix bits per layer around the named type: sized
    # as that type unless the average bits are stated ("(2.51bit)", read first)
    "q2_k_xl": "q2_k",
    "q3_k_xl": "q3_k_l",
    "q4_k_xl": "q4_k_m",
    "q5_k_xl": "q5_k_m",
    "q6_k_xl": "q6_k",
    "q8_k_xl": "q8_0",
}
_BPW = re.compile(r"^(?:exl2[-_:]?)?(\d+(?:\.\d+)?)\s*-?bpw$|^exl2[-_:](\d+(?:\.\d+)?)$")
# an average stated in bits with a fraction ("2.51bit", "1.58-bit"): a dynamic or mixed quant
_STATED_BITS = re.compile(r"^(\d\.\d{1,2})-?bits?$")


def weight_format(name: str) -> WeightFormat | None:
    """The format for a name people type ("Q4_K_M", "gptq", "4.65bpw", "exl2-5.0"), or None."""
    key = str(name).strip().lower().replace(" ", "")
    key = _ALIASES.get(key, key)
    if key in FORMATS:
        return FORMATS[key]
    stated = _STATED_BITS.match(key)
    if stated:
        bits = float(stated.group(1))
        if 1.0 <= bits <= 16.0:
            return WeightFormat(
                f"{bits:g}bit",
                f"{bits:g} bits per weight (as stated)",
                bits,
                "stated",
                source="the average bits per weight the user stated",
            )
    match = _BPW.match(key)
    if match:
        bits = float(match.group(1) or match.group(2))
        if math.isfinite(bits) and 1.0 <= bits <= 16.0:
            return WeightFormat(
                f"exl2-{bits:g}", f"EXL2 {bits:g} bpw", bits, "exl2", source="EXL2 average bpw"
            )
    return None


def format_keys() -> list[str]:
    return list(FORMATS)


# Formats whose matrix products run in 16-bit on a GPU: the weights as published, and the
# Hugging Face quantizations whose kernels dequantize to FP16 (GGUF files use their own
# integer and FP32 paths).
HALF_PRECISION_COMPUTE = frozenset({"bf16", "fp16", "awq", "gptq", "nf4", "int8", "exl2"})
SLOW_HALF_RATIO = 0.25  # FP16 below a quarter of FP32: a card without fast half precision


def slow_half_precision(acc: Any, dtype: str) -> str | None:
    """Why 16-bit compute is slow or missing on ``acc`` (Pascal's 1/64-rate FP16; BF16 before
    Ampere), read from the catalog's TFLOPS figures, or None."""
    # "exl2-4.65", "gptq-int8": the family's kernels compute in half precision all the same
    family = dtype.lower().split("-")[0]
    if getattr(acc, "kind", None) != "gpu" or family not in HALF_PRECISION_COMPUTE:
        return None
    fp16, fp32 = acc.fp16_tflops, acc.fp32_tflops
    arch = getattr(acc, "architecture", None)
    name = f"{acc.name} ({arch})" if arch and arch.lower() not in acc.name.lower() else acc.name
    if fp16 and fp32 and fp16 < SLOW_HALF_RATIO * fp32:
        return (
            f"{name} computes FP16 at {fp16:g} TFLOPS against {fp32:g} in FP32 (about "
            f"1/{round(fp32 / fp16)} the rate): engines that run in half precision are very slow "
            "on it; llama.cpp GGUF files (FP32 and INT8 paths) or FP32 run at its real speed"
        )
    if dtype.lower() == "bf16" and acc.bf16_tflops is None and acc.vendor == "NVIDIA" and fp16:
        return (
            f"{acc.name} has no BF16 support (NVIDIA added it with Ampere): load the weights "
            "in FP16 (the same memory)"
        )
    return None


def unsupported_on(acc: Any, dtype: str) -> str | None:
    """Why ``acc`` cannot compute in ``dtype`` (FP8/FP4 on older GPUs), or None.

    Read from the catalog: a GPU without an ``fp8_tflops`` (``fp4_tflops``) figure has no such
    tensor cores. NVIDIA added FP8 with Ada and Hopper (compute capability 8.9 / 9.0) and FP4
    with Blackwell.
    """
    key = dtype.lower()
    if getattr(acc, "kind", None) != "gpu":
        return None
    if key in ("fp8", "e4m3", "e5m2") and acc.fp8_tflops is None:
        need = "Ada, Hopper or later, compute capability 8.9+" if acc.vendor == "NVIDIA" else ""
        return (
            f"{acc.name} has no FP8 tensor cores{f' ({need})' if need else ''}: engines refuse "
            "FP8 checkpoints on it or run them weight-only, at 16-bit speed"
        )
    if key in ("fp4", "nvfp4", "mxfp4") and acc.fp4_tflops is None and key != "mxfp4":
        return f"{acc.name} has no FP4 tensor cores (NVIDIA Blackwell and later)"
    return None
