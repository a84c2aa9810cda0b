"""Model architectures for the calculators: catalog rows, custom specs, or a bare size.

Every tool that takes a model accepts ``ModelRef``: a catalog name ("llama 3 70b"), a
:class:`ModelSpec` (custom architecture), or a parameter count in billions (``70`` or
``"70B"``). A bare count is turned into a Llama-style architecture by a documented rule and
the result carries a warning saying so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .quant import FORMATS, format_keys, weight_format
from .result import CatalogRef, ref
from .schema import AttentionKind, Model


class ModelSpec(BaseModel):
    """A model architecture. Catalog rows convert to this; users may build their own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom model"
    params_b: float = Field(gt=0, le=10000)
    active_params_b: float | None = Field(default=None, gt=0)
    layers: int = Field(gt=0, le=1024)
    hidden_size: int = Field(gt=0)
    intermediate_size: int | None = Field(default=None, gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    vocab_size: int = Field(default=128_256, gt=0)
    max_context: int = Field(default=131_072, gt=0)
    attention: AttentionKind = "gqa"
    sliding_window: int | None = Field(default=None, gt=0)
    sliding_window_layers: int = Field(default=0, ge=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    experts: int | None = Field(default=None, gt=0)
    active_experts: int | None = Field(default=None, gt=0)
    kind: str = "llm"
    tie_embeddings: bool = False

    @property
    def active_b(self) -> float:
        return self.active_params_b or self.params_b

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden_size // self.attention_heads

    @property
    def ffn_size(self) -> int:
        return self.intermediate_size or int(self.hidden_size * 3.5)

    @property
    def is_moe(self) -> bool:
        return self.experts is not None and (self.active_experts or 0) < self.experts

    @classmethod
    def from_catalog(cls, m: Model) -> ModelSpec:
        return cls(
            name=m.name,
            params_b=m.params_b,
            active_params_b=m.active_params_b,
            layers=m.layers,
            hidden_size=m.hidden_size,
            intermediate_size=m.intermediate_size,
            attention_heads=m.attention_heads,
            kv_heads=m.kv_heads,
            head_dim=m.head_dim,
            vocab_size=m.vocab_size,
            max_context=m.max_context,
            attention=m.attention,
            sliding_window=m.sliding_window,
            sliding_window_layers=m.sliding_window_layers,
            kv_lora_rank=m.kv_lora_rank,
            qk_rope_head_dim=m.qk_rope_head_dim,
            experts=m.experts,
            active_experts=m.active_experts,
            kind=m.kind,
            tie_embeddings=m.tie_embeddings,
        )


ModelRef = str | float | int | ModelSpec


@dataclass
class ResolvedModel:
    spec: ModelSpec
    refs: list[CatalogRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


# Reference shapes for approximating an architecture from a bare parameter count:
# (params_b, layers, hidden, heads, kv_heads, intermediate) of published Llama 3 configs.
_REFERENCE_SHAPES = [
    (1.24, 16, 2048, 32, 8, 8192),
    (3.21, 28, 3072, 24, 8, 8192),
    (8.03, 32, 4096, 32, 8, 14336),
    (70.6, 80, 8192, 64, 8, 28672),
    (405.9, 126, 16384, 128, 8, 53248),
]
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bmt]?)\s*(?:params?|parameters?)?\s*$", re.I)


def parse_param_count(text: str) -> float | None:
    """'70B' -> 70.0, '350M' -> 0.35, '1.5t' -> 1500.0, '13' -> 13.0 (billions)."""
    match = _SIZE_RE.match(text)
    if not match:
        return None
    number = float(match.group(1))
    unit = match.group(2).lower()
    return number / 1000 if unit == "m" else number * 1000 if unit == "t" else number


# The largest open models have about 1-2T parameters; beyond 3T the approximated Llama-style
# shape would need more than ModelSpec's 1,024 layers.
MAX_APPROX_PARAMS_B = 3000.0


def approximate_spec(params_b: float) -> ModelSpec:
    """A Llama-3-style dense architecture with ``params_b`` billion parameters.

    Rule: take the published Llama 3 shape nearest in log(size), keep its width, heads and
    128k vocabulary, and scale the layer count so that 12 x layers x hidden^2 x (ffn factor)
    plus the embeddings matches the requested size.
    """
    if not math.isfinite(params_b) or params_b <= 0:
        raise InvalidInputError(f"Parameter count must be positive, got {params_b!r}.")
    shape = min(_REFERENCE_SHAPES, key=lambda s: abs(math.log(s[0] / params_b)))
    _, layers, hidden, heads, kv_heads, inter = shape
    head_dim = hidden // heads
    vocab = 128_256
    per_layer = (
        hidden * (heads * head_dim)  # q
        + 2 * hidden * (kv_heads * head_dim)  # k, v
        + (heads * head_dim) * hidden  # o
        + 3 * hidden * inter  # gate, up, down
    )
    embed = 2 * vocab * hidden
    scaled_layers = max(1, round((params_b * 1e9 - embed) / per_layer))
    return ModelSpec(
        name=f"~{params_b:g}B dense model (approximated)",
        params_b=params_b,
        layers=scaled_layers,
        hidden_size=hidden,
        intermediate_size=inter,
        attention_heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        vocab_size=vocab,
        attention="gqa",
    )


def resolve_model(model: ModelRef, catalog: Catalog | None = None) -> ResolvedModel:
    """Turn a catalog name, a ModelSpec or a bare size into a ResolvedModel."""
    if isinstance(model, ModelSpec):
        return ResolvedModel(spec=model, assumptions=[f"Custom architecture: {model.name}."])
    if isinstance(model, bool):
        raise InvalidInputError(f"Model must be a name, a size or a ModelSpec, got {model!r}.")
    if isinstance(model, int | float):
        size = float(model)
    elif isinstance(model, str):
        parsed = parse_param_count(model)
        if parsed is None:
            row = (catalog or load_catalog()).model(model)
            return ResolvedModel(spec=ModelSpec.from_catalog(row), refs=[ref("models", row)])
        size = parsed
    else:
        raise InvalidInputError(f"Model must be a name, a size or a ModelSpec, got {model!r}.")
    if not math.isfinite(size) or size <= 0:
        raise InvalidInputError(
            f"Model size must be a positive number of billions of parameters, got {model!r}.",
            hint="pass e.g. 8 or '8B', or a catalog name like 'llama 3.1 8b'.",
        )
    if size > MAX_APPROX_PARAMS_B:
        raise InvalidInputError(
            f"Model size {size:g}B parameters is implausibly large.",
            hint="give the size in billions (70 for a 70B model).",
        )
    spec = approximate_spec(size)
    return ResolvedModel(
        spec=spec,
        warnings=[
            f"Architecture of a {size:g}B model approximated from its size with a Llama-3-style "
            f"shape ({spec.layers} layers, hidden {spec.hidden_size}, {spec.kv_heads} KV heads); "
            "pass a catalog name or a ModelSpec for exact KV-cache figures."
        ],
        assumptions=["Dense model (not mixture-of-experts); GQA with 8 KV heads."],
    )


# Bytes per parameter by weight format: see :mod:`advisor.tools.quant` for the effective bits
# per weight of each format and their sources.
DTYPE_BYTES: dict[str, float] = {k: f.bits / 8 for k, f in FORMATS.items()}
# Which accelerator throughput field serves each weight dtype for compute.
COMPUTE_FIELD = {
    "fp32": "fp32_tflops",
    "tf32": "tf32_tflops",
    "bf16": "bf16_tflops",
    "fp16": "fp16_tflops",
    "fp8": "fp8_tflops",
    "int8": "int8_tops",
    "fp4": "fp4_tflops",
}


def normalize_dtype(dtype: str) -> str:
    fmt_ = weight_format(dtype)
    if fmt_ is None:
        raise InvalidInputError(
            f"Unknown dtype {dtype!r}.",
            hint=f"use one of: {', '.join(format_keys())}, or an EXL2 size like '4.65bpw'.",
        )
    return fmt_.key


def bytes_per_param(dtype: str) -> float:
    fmt_ = weight_format(dtype)
    if fmt_ is None:
        normalize_dtype(dtype)  # raises the typed error
        raise AssertionError("unreachable")
    return fmt_.bits / 8


def embedding_params(spec: ModelSpec) -> float:
    """Parameters in the input embedding and output head (one matrix when tied)."""
    return spec.vocab_size * spec.hidden_size * (1 if spec.tie_embeddings else 2)


def weight_bytes(spec: ModelSpec, dtype: str) -> float:
    """Bytes of all weights in ``dtype``; formats that keep embeddings in 16 bits count them so.

    Example: Llama 2 7B in GPTQ g128: (6.74e9 - 0.262e9) x 4.156/8 + 0.262e9 x 2 = 3.89e9 B
    (the published 4-bit GPTQ checkpoint is 3.9 GB).
    """
    fmt_ = weight_format(dtype)
    if fmt_ is None:
        normalize_dtype(dtype)
        raise AssertionError("unreachable")
    total = spec.params_b * 1e9
    if not fmt_.embeddings_16bit:
        return total * fmt_.bits / 8
    embed = min(embedding_params(spec), total * 0.5)
    return (total - embed) * fmt_.bits / 8 + embed * 2
