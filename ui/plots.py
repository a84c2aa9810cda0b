"""Plots rendered server-side with matplotlib (nothing fetched by the browser)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from advisor.tools.result import ToolResult  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

COLORS = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#9D755D"]


def memory_breakdown(result: ToolResult) -> Figure:
    """Stacked bar of weights / KV cache / activations / overhead against device memory."""
    v = result.values
    parts = [
        ("Weights", "weights_gb"),
        ("KV cache", "kv_cache_gb"),
        ("Activations", "activations_gb"),
        ("Overhead", "overhead_gb"),
    ]
    tp = result.inputs.get("num_accelerators") or (
        v["min_accelerators"].value
        if "min_accelerators" in v and isinstance(v["min_accelerators"].value, int | float)
        else 1
    )
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    left = 0.0
    for (label, key), color in zip(parts, COLORS, strict=False):
        if key in v and isinstance(v[key].value, int | float):
            width = float(v[key].value) / (1 if key == "overhead_gb" else float(tp))
            ax.barh([f"per device (TP={int(tp)})"], [width], left=left, color=color, label=label)
            left += width
    if "device_usable_gb" in v and isinstance(v["device_usable_gb"].value, int | float):
        usable = float(v["device_usable_gb"].value)
        ax.axvline(usable, color="black", linestyle="--", label=f"usable {usable:.0f} GB")
    ax.set_xlabel("GB")
    ax.set_title(result.inputs.get("model", "model"))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def cost_comparison(result: ToolResult) -> Figure:
    """Bar chart of the ranked options (cost per million tokens, monthly cost or job cost)."""
    rows = [r for r in (result.table or []) if r.get("fits")]
    metric = next(
        (m for m in ("usd_per_m_tokens", "monthly_usd", "job_usd") if rows and m in rows[0]), None
    )
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    if metric:
        labels = [f"{r['provider']} {r['instance']}\n{r['region']}" for r in rows[:8]]
        values = [float(r[metric]) for r in rows[:8]]
        ax.barh(labels[::-1], values[::-1], color=COLORS[0])
        ax.set_xlabel(
            {
                "usd_per_m_tokens": "$ per million output tokens",
                "monthly_usd": "$ per month",
                "job_usd": "$ for the job",
            }[metric]
        )
        ax.tick_params(axis="y", labelsize=7)
    else:
        ax.text(0.5, 0.5, "No option fits", ha="center", va="center")
    ax.set_title("Cost comparison")
    fig.tight_layout()
    return fig


def break_even_curve(result: ToolResult) -> Figure:
    """Cumulative cloud vs on-prem cost over time, with the break-even point."""
    series = result.table or []
    months = [r["month"] for r in series]
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    ax.plot(months, [r["cloud_usd"] / 1e3 for r in series], label="cloud", color=COLORS[0])
    ax.plot(months, [r["onprem_usd"] / 1e3 for r in series], label="on-prem", color=COLORS[1])
    be = result.values.get("break_even_months")
    if be is not None and isinstance(be.value, int | float) and months and be.value <= months[-1]:
        ax.axvline(
            float(be.value),
            color="black",
            linestyle="--",
            label=f"break-even {float(be.value):.1f} months",
        )
    ax.set_xlabel("months")
    ax.set_ylabel("cumulative cost (k$)")
    ax.set_title("Cloud vs on-prem")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def training_bars(result: ToolResult) -> Figure:
    """Peak memory per GPU by component."""
    keys = [
        ("Weights", "weights_gb"),
        ("Gradients", "gradients_gb"),
        ("Optimizer", "optimizer_gb"),
        ("Activations", "activations_gb"),
        ("Logits", "logits_gb"),
    ]
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    vals = [
        float(result.values[k].value)
        for _, k in keys  # type: ignore[arg-type]
        if k in result.values
    ]
    ax.bar([label for label, k in keys if k in result.values], vals, color=COLORS[: len(vals)])
    ax.set_ylabel("GB per GPU")
    ax.set_title("Training memory")
    fig.tight_layout()
    return fig


def figure_for(result: ToolResult | dict[str, Any] | None) -> Figure | None:
    """The plot that suits a tool result, if any."""
    if result is None:
        return None
    if isinstance(result, dict):
        result = ToolResult.model_validate(result)
    if result.tool == "inference_memory":
        return memory_breakdown(result)
    if result.tool == "compare_options":
        return cost_comparison(result)
    if result.tool == "break_even":
        return break_even_curve(result)
    if result.tool == "training_memory":
        return training_bars(result)
    return None


def close(fig: Figure | None) -> None:
    if fig is not None:
        plt.close(fig)
