"""Published training compute: what a model's developers say its training took.

"How long did it take to train Llama 2 70B?" has an answer in the model card, and an estimate
should not stand in for it. The rows live in ``knowledge/catalog/training-runs.yaml``; every
figure is as the source states it, with the source's own words in ``quote``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .catalog import default_catalog_dir, validate_file
from .errors import InvalidInputError
from .result import CatalogRef, Quantity, ToolResult
from .schema import TrainingRun, TrainingRunCatalog

RUNS_FILE = "training-runs.yaml"


def _norm(text: str) -> str:
    """Lower case, words split on anything but letters, digits and inner dots ("3.1")."""
    words = re.sub(r"[^a-z0-9.]+", " ", text.lower())
    return " " + " ".join(re.sub(r"\.(?=\s|$)|(?<=\s)\.", " ", words).split()) + " "


@functools.lru_cache(maxsize=4)
def load_training_runs(directory: str | None = None) -> tuple[TrainingRun, ...]:
    table = validate_file(Path(directory or default_catalog_dir()) / RUNS_FILE)
    assert isinstance(table, TrainingRunCatalog)
    return tuple(table.runs)


def runs_named_in(text: str) -> list[TrainingRun]:
    """The published runs of every model the text names, in the order the text names them
    ("Vicuna-7B and Vicuna-13B": both)."""
    t = _norm(text[:20_000])
    at: dict[str, int] = {}
    for run in load_training_runs():
        spots = [t.find(_norm(name)) for name in run.names if _norm(name) in t]
        if spots:
            at[run.id] = min(spots)
    order = {r.id: n for n, r in enumerate(load_training_runs())}
    return sorted(
        (r for r in load_training_runs() if r.id in at), key=lambda r: (at[r.id], order[r.id])
    )


def _what(run: TrainingRun) -> str:
    parts = []
    if run.gpus and run.accelerator:
        parts.append(f"{run.gpus:,} x {run.accelerator}")
    elif run.accelerator:
        parts.append(run.accelerator)
    if run.wall_clock_days:
        days = run.wall_clock_days
        parts.append(f"for {days:g} day{'' if days == 1 else 's'}")
    if run.gpu_hours:
        parts.append(f"{run.gpu_hours:,.0f} GPU-hours")
    if run.tokens:
        t = run.tokens
        parts.append(f"on {t / 1e12:g}T tokens" if t >= 1e12 else f"on {t / 1e9:g}B tokens")
    if run.cost_usd:
        parts.append(f"about ${run.cost_usd:,.0f}")
    return ", ".join(p for p in parts if p)


def published_training(model: str) -> ToolResult:
    """What the developers of ``model`` published about its training (GPUs, GPU-hours, days,
    tokens, cost), with the source; a model without a published record is a typed error.

    Example: Llama 2 70B: 1,720,320 A100-80GB GPU-hours of pretraining (Llama 2 model card).
    """
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError("model must be a model name.", hint='e.g. "Llama 2 70B".')
    runs = runs_named_in(model)
    if not runs:
        raise InvalidInputError(
            f"no published training record for {model!r}.",
            hint="records exist for Llama 2/3/3.1/3.2, DeepSeek-V3/R1, Falcon, BLOOM, MPT, "
            "Vicuna, Alpaca, Dolly, TinyLlama, StarCoder, Phi, OPT-175B, GPT-NeoX-20B, gpt-oss.",
        )
    first = runs[0]
    source = first.sources[0].title
    stage = {"total": "training"}.get(first.stage, first.stage)
    headline = f"Published: {first.model} {stage} used {_what(first)} ({source})."
    if len(runs) > 1:
        headline += f" Also reported: {_what(runs[1])} ({runs[1].sources[0].title})."
    values: dict[str, Quantity] = {}
    for key, label, unit in (
        ("gpus", "GPUs (published)", ""),
        ("gpu_hours", "GPU-hours (published)", "GPU-hours"),
        ("wall_clock_days", "Wall-clock days (published)", "days"),
        ("cost_usd", "Cost (published)", "$"),
    ):
        value = getattr(first, key)  # one run's figures: two runs' are never mixed
        if value is not None:
            values[key] = Quantity(label=label, value=float(value), unit=unit)
    return ToolResult(
        tool="published_training",
        headline=headline,
        inputs={"model": model, "runs": [r.id for r in runs]},
        values=values,
        formula=["as published by the model's developers; nothing here is estimated"],
        assumptions=[f"{r.model}: {r.note}" for r in runs if r.note][:3],
        refs=[
            CatalogRef(catalog="training-runs", row=r.id, as_of=r.as_of, sources=list(r.sources))
            for r in runs
        ],
        table=[
            {"model": r.model, "stage": r.stage, "what": _what(r), "source": r.sources[0].title}
            for r in runs
        ],
    )
