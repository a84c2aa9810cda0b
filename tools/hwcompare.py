"""Two or more accelerators side by side, for "A100 vs H100: how much faster?" with no model.

Which figure decides depends on the work, so the comparison gives one ratio per bound:

- token generation at batch 1 (chat, one user) reads every weight once per token, so it is
  bound by memory bandwidth: speed ratio ~ bandwidth ratio;
- prompt processing, training and large-batch serving are bound by compute: speed ratio ~
  dense 16-bit TFLOPS ratio (FP8 where both cards have it, for FP8 work);
- what fits is bound by memory capacity.

Ratios are of datasheet peaks; real speed-ups are usually smaller (software, power limits),
and the answer says so.
"""

from __future__ import annotations

from .catalog import Catalog, load_catalog
from .errors import InvalidInputError
from .result import Quantity, ToolResult, fmt, ref
from .schema import Accelerator

MAX_COMPARED = 4


def _dense16(acc: Accelerator) -> float | None:
    return acc.bf16_tflops or acc.fp16_tflops


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _times(r: float) -> str:
    return f"{r:.2g}x" if r < 10 else f"{r:.0f}x"


def compare_accelerators(accelerators: list[str], catalog: Catalog | None = None) -> ToolResult:
    """Datasheet figures of ``accelerators`` and, against the first, the ratios that set the
    speed of each kind of work.

    Example: ["a100-80gb-sxm", "h100-sxm"]: bandwidth 2,039 -> 3,350 GB/s (1.6x: one-stream
    generation), dense BF16 312 -> 989 TFLOPS (3.2x: prefill and training), memory 80 -> 80 GB.
    """
    cat = catalog or load_catalog()
    if isinstance(accelerators, str) or not all(
        isinstance(n, str) and n.strip() for n in accelerators
    ):
        raise InvalidInputError(
            f"accelerators must be a list of names, got {accelerators!r}.",
            hint="e.g. ['a100-80gb-sxm', 'h100-sxm'] (see the accelerators catalog).",
        )
    names = [n.strip() for n in accelerators]
    if len(names) < 2:
        raise InvalidInputError(
            f"compare_accelerators needs at least two accelerators, got {len(names)}.",
            hint="name two, e.g. ['a100-80gb-sxm', 'h100-sxm'].",
        )
    accs: list[Accelerator] = []
    for name in names[:MAX_COMPARED]:
        acc = cat.accelerator(name)
        if acc.id not in {a.id for a in accs}:
            accs.append(acc)
    if len(accs) < 2:
        raise InvalidInputError(
            f"compare_accelerators needs two different accelerators; {names} are one card.",
            hint="name a second, different accelerator.",
        )
    base = accs[0]
    values: dict[str, Quantity] = {}
    table = []
    for acc in accs:
        table.append(
            {
                "accelerator": acc.name,
                "memory_gb": acc.memory_gb,
                "memory_type": acc.memory_type,
                "bandwidth_gb_s": acc.memory_bandwidth_gb_s,
                "bf16_tflops": _dense16(acc),
                "fp8_tflops": acc.fp8_tflops,
                "tdp_w": acc.tdp_w,
                "interconnect": acc.interconnect_name,
                "available": acc.available or (str(acc.release_year) if acc.release_year else None),
            }
        )
    parts: list[str] = []
    for acc in accs[1:]:
        key = acc.id.replace("-", "_").replace(".", "_")
        bw = _ratio(acc.memory_bandwidth_gb_s, base.memory_bandwidth_gb_s)
        comp = _ratio(_dense16(acc), _dense16(base))
        fp8 = _ratio(acc.fp8_tflops, base.fp8_tflops)
        assert bw is not None
        values[f"bandwidth_ratio_{key}"] = Quantity(
            label=f"Memory bandwidth, {acc.name} / {base.name} (one-stream generation)",
            value=round(bw, 3),
            unit="x",
        )
        text = (
            f"for token generation at batch 1 (memory-bound) {acc.name} runs at about "
            f"{_times(bw)} the speed of {base.name} ({fmt(acc.memory_bandwidth_gb_s, 'GB/s')} vs "
            f"{fmt(base.memory_bandwidth_gb_s, 'GB/s')})"
        )
        if comp is not None:
            values[f"compute_ratio_{key}"] = Quantity(
                label=f"Dense 16-bit TFLOPS, {acc.name} / {base.name} (prefill, training)",
                value=round(comp, 3),
                unit="x",
            )
            text += (
                f"; for prompt processing, training and large batches (compute-bound) about "
                f"{_times(comp)} ({fmt(_dense16(acc) or 0.0, 'TFLOPS')} vs "
                f"{fmt(_dense16(base) or 0.0, 'TFLOPS')} dense BF16/FP16)"
            )
        if fp8 is not None:
            values[f"fp8_ratio_{key}"] = Quantity(
                label=f"Dense FP8 TFLOPS, {acc.name} / {base.name}", value=round(fp8, 3), unit="x"
            )
        elif acc.fp8_tflops and not base.fp8_tflops:
            text += f"; only {acc.name} computes in FP8"
        elif base.fp8_tflops and not acc.fp8_tflops:
            text += f"; only {base.name} computes in FP8"
        text += f"; memory {fmt(acc.memory_gb, 'GB')} vs {fmt(base.memory_gb, 'GB')}" + (
            " (the same models fit)"
            if acc.memory_gb == base.memory_gb
            else f" ({'more' if acc.memory_gb > base.memory_gb else 'less'} fits on one card)"
        )
        parts.append(text)
    for acc in accs:
        values[f"memory_gb_{acc.id.replace('-', '_').replace('.', '_')}"] = Quantity(
            label=f"Memory, {acc.name}", value=acc.memory_gb, unit="GB"
        )
    headline = "Against " + base.name + ": " + "; and ".join(parts) + "."
    if len(accs) == 2:
        headline = parts[0][0].upper() + parts[0][1:] + "."
    return ToolResult(
        tool="compare_accelerators",
        headline=headline,
        inputs={"accelerators": [a.id for a in accs]},
        values=values,
        formula=[
            "one-stream generation speed ratio ~ memory bandwidth ratio (every weight is read "
            "once per token)",
            "prefill / training / large-batch speed ratio ~ dense 16-bit TFLOPS ratio",
        ],
        assumptions=[
            "Datasheet peaks (dense, not 2:4 sparse); measured speed-ups are usually smaller "
            "than the ratios, as kernels, power limits and the engine's support differ by card.",
        ],
        refs=[ref("accelerators", a) for a in accs],
        table=table,
    )
