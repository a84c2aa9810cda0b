"""Tensor-parallel sizes a model allows on a given number of GPUs.

Tensor parallelism gives every rank the same share of attention heads, so vLLM (and most
engines) require the tensor-parallel size to divide the number of attention heads; with
grouped-query attention the KV heads must also split evenly, or be replicated a whole number
of times. A GPU count that no valid size uses can still be filled with pipeline stages.
"""

from __future__ import annotations

from . import checks
from .result import Quantity, ToolResult


def _valid(tp: int, heads: int, kv_heads: int | None) -> bool:
    if heads % tp:
        return False
    return kv_heads is None or kv_heads % tp == 0 or tp % kv_heads == 0


def tensor_parallel_options(
    attention_heads: int, gpus: int, kv_heads: int | None = None
) -> ToolResult:
    """Which --tensor-parallel-size values work for a model with ``attention_heads`` on
    ``gpus`` GPUs, and a TP x PP layout that uses them all when one exists.

    Example: 40 heads on 6 GPUs: TP must divide 40, so 6 fails; TP 2 x PP 3 uses all six.
    52 heads (LLaMA 33B) on 3 GPUs: TP 2 on two of them, or 4 GPUs with TP 4.
    """
    heads = checks.count("attention_heads", attention_heads, upper=4096)
    n = checks.count("gpus", gpus, upper=100_000)
    kv = checks.count("kv_heads", kv_heads, upper=4096) if kv_heads is not None else None
    valid = [t for t in range(1, min(n, heads) + 1) if _valid(t, heads, kv)]
    best = max(valid)
    up = next((t for t in range(n + 1, heads + 1) if _valid(t, heads, kv)), None)
    layouts = [(t, n // t) for t in sorted(valid, reverse=True) if t > 1 and n % t == 0]
    parts = [
        f"tensor parallelism gives each GPU an equal share of the attention heads, so the "
        f"tensor-parallel size must divide the model's {heads} attention heads"
        + (f" (and its {kv} KV heads split or repeat evenly)" if kv else "")
    ]
    if best == n:
        parts.append(f"on {n} GPUs --tensor-parallel-size {n} works")
    else:
        parts.append(f"on {n} GPUs the largest size that works is {best}")
        if layouts:
            t, pp = layouts[0]
            parts.append(
                f"to use all {n}, run --tensor-parallel-size {t} --pipeline-parallel-size {pp}"
            )
        if up is not None:
            parts.append(f"or use {up} GPUs with --tensor-parallel-size {up}")
    values = {
        "largest_tp": Quantity(label="Largest tensor-parallel size that works", value=best),
        "valid_tp": Quantity(label="Sizes that work", value=", ".join(map(str, valid))),
    }
    if up is not None:
        values["next_gpus"] = Quantity(label="Next GPU count that works", value=up)
    if kv is None and best not in (1, 2, 4, 8, 16, 32, 64) and best != n:
        parts.append("check that the size also divides num_key_value_heads in config.json")
    text = "; ".join(parts)
    return ToolResult(
        tool="tensor_parallel_options",
        headline=text[0].upper() + text[1:] + ".",
        inputs={"attention_heads": heads, "gpus": n, "kv_heads": kv},
        values=values,
        formula=[
            "valid TP = divisors t of the attention heads with t <= GPUs "
            "(and KV heads % t == 0 or t % KV heads == 0)",
            "TP x PP = GPUs when a valid t divides the GPU count",
        ],
        assumptions=[
            "vLLM's rule; other engines with tensor parallelism split heads the same way."
        ],
    )
