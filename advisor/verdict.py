"""The first sentence of an answer: the verdict for what was asked, built from tool results.

Deterministic: every number in a verdict is read from a calculator result. Fit questions get
yes / no / yes-with-changes plus the cheapest change that makes it work; speed questions get
the tokens/s of one stream (and, when the user reports a speed, whether it is normal);
troubleshooting questions about memory get the reason in numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from advisor import understand
from advisor.route import WorkloadSpec
from advisor.tools.catalog import load_catalog
from advisor.tools.result import Quantity, ToolResult, fmt
from advisor.tools.training import METHOD_NAMES, fine_tuning_name

NORMAL_SLACK = 0.7  # a reported speed within [low x 0.7, high / 0.7] counts as normal


@dataclass(frozen=True)
class Verdict:
    text: str
    answer: str  # yes | no | yes_with_changes | info
    key_numbers: list[str]
    troubleshooting: bool = False  # already says why it fails: not rephrased as an OOM


def _q(result: ToolResult, key: str) -> Quantity | None:
    return result.values.get(key)


def _num(result: ToolResult, key: str) -> float | None:
    q = _q(result, key)
    if q is None or isinstance(q.value, (bool, str)):
        return None
    return float(q.value)


def _speed_range(q: Quantity) -> str:
    if q.low is not None and q.high is not None:
        return f"{fmt(q.low, '')}-{fmt(q.high, 'tokens/s')}"
    return str(fmt(float(q.value), "tokens/s"))


def _status(result: ToolResult) -> str:
    q = _q(result, "status")
    return str(q.value) if q is not None else "does_not_fit"


def key_numbers(result: ToolResult, limit: int = 6) -> list[str]:
    """3-6 headline quantities of a result, in the order people look for them."""
    order = (
        "memory_gb",
        "total_gb",
        "weights_gb",
        "kv_cache_gb",
        "device_memory_gb",
        "system_ram_usable_gb",
        "gpu_layers",
        "offloaded_gb",
        "decode_tokens_per_s",
        "prefill_tokens_per_s",
        "per_device_gb",
        "min_accelerators",
        "optimizer_gb",
        "activations_gb",
        "accelerators_needed",
        "gpus",
        "gpu_hours",
        "wall_clock_days",
        "cost_usd",
        "tokens_per_s",
        "requests_per_s",
        "replicas",
        "largest_fit_b",
        "largest_offload_b",
        "models_fit",
    )
    out = []
    for key in order:
        q = result.values.get(key)
        if q is None or isinstance(q.value, bool) or q.value == "":
            continue
        out.append(f"{q.label}: {q.render()}")
        if len(out) >= limit:
            break
    return out


def _first_change(result: ToolResult) -> str | None:
    if not result.alternatives:
        return None
    alt = result.alternatives[0]
    return f"{alt.label} ({alt.detail})"


def _unsupported(r: ToolResult) -> Verdict | None:
    """The card cannot compute in the format asked (FP8 on an A100): no, with what works."""
    q = _q(r, "format_supported")
    if q is None or q.value is not False:
        return None
    why = next((w for w in r.warnings if "tensor cores" in w), f"{q.label}: not supported.")
    text = (
        f"No, not in {r.inputs['dtype']}: {why} Use INT8 weights (the same memory), a 4-bit "
        "AWQ/GPTQ checkpoint, or BF16/FP16 (twice the memory)."
    )
    return Verdict(text, "no", key_numbers(r))


def _hardware_fit(spec: WorkloadSpec, r: ToolResult) -> Verdict:
    if (v := _unsupported(r)) is not None:
        return v
    status = _status(r)
    model, dtype, hw = r.inputs["model"], r.inputs["dtype"], r.inputs["hardware"]
    need = fmt(_num(r, "memory_gb") or 0.0, "GB")
    have_q = _q(r, "device_memory_gb") or _q(r, "system_ram_usable_gb")
    have = fmt(float(have_q.value), "GB") if have_q else "?"
    speed = _q(r, "decode_tokens_per_s")
    speed_txt = f", at about {fmt(float(speed.value), 'tokens/s')} for one stream" if speed else ""
    nums = key_numbers(r)
    if status == "fits":
        where = r.inputs.get("accelerators") or hw
        spare = _num(r, "headroom_gb")
        change = _first_change(r)
        if spare is not None and change:
            text = (
                f"Only just: {model} in {dtype} needs about {need} of the {have} usable on "
                f"{where}, leaving {fmt(spare, 'GB')} for a longer context or the engine's "
                f"buffers{speed_txt}. For room to spare, {change}."
            )
            return Verdict(text, "yes_with_changes", nums)
        text = (
            f"Yes: {model} in {dtype} needs about {need} and {where} has {have} usable{speed_txt}."
        )
        return Verdict(text, "yes", nums)
    if status == "fits_with_offload":
        layers = int(_num(r, "gpu_layers") or 0)
        text = (
            f"Yes, with CPU offload: {model} in {dtype} needs about {need}, more than the {have} "
            f"on the GPU, so keep {layers} layers on the GPU (llama.cpp -ngl {layers}) and the "
            f"rest in system RAM{speed_txt}."
        )
        quant = next((a for a in r.alternatives if a.label.startswith("quantize")), None)
        if spec.dtype is None and quant is not None:
            # no precision given: people who offload run a quantized file, so that leads,
            # and the published precision follows
            text = (
                f"Yes, in a quantized file: {quant.label} ({quant.detail}). In {dtype}, "
                f"{model} needs about {need}, more than the {have} on the GPU: {layers} layers "
                f"on the GPU (llama.cpp -ngl {layers}) and the rest in system RAM{speed_txt}."
            )
            return Verdict(text, "yes_with_changes", nums)
        change = _first_change(r)
        if change and "offload" in change:
            text += f" Faster: {change}."
        elif change:
            text += f" To run it all on the GPU: {change}."
        return Verdict(text, "yes_with_changes", nums)
    change = _first_change(r)
    if change and _changes_pinned_format(spec, change):
        pinned = f"in {dtype}"
        if not change.lower().startswith("quantize"):
            pinned = f"with a {spec.context_tokens:,}-token context"
        text = (
            f"No, not {pinned}: {model} needs about {need} and {hw} has {have} usable. "
            f"It would fit if you {change}."
        )
        return Verdict(text, "no", nums)
    if change:
        text = (
            f"Not in {dtype}: {model} needs about {need} and {hw} has {have} usable. "
            f"It works if you {change}."
        )
        return Verdict(text, "yes_with_changes", nums)
    text = f"No: {model} in {dtype} needs about {need} and {hw} has only {have} usable."
    return Verdict(text, "no", nums)


def _changes_pinned_format(spec: WorkloadSpec, change: str) -> bool:
    """The user named the format ("unquantized", "AWQ", "in FP16") and the only way to fit is
    another one, or named the context ("to support 128K context") and the only way is a
    shorter one: in their terms the answer is no, and what would fit follows."""
    low = change.lower()
    if spec.dtype is not None and low.startswith("quantize"):
        return True
    return bool(spec.context_needed) and low.startswith(("shorten the context", "keep the context"))


def _with_bf16(spec: WorkloadSpec, r: ToolResult, v: Verdict) -> Verdict:
    """When the precision was assumed, say what the unquantized model would need."""
    bf16 = _num(r, "memory_bf16_gb")
    if spec.dtype is not None or bf16 is None:
        return v
    usable = _num(r, "device_memory_gb") or _num(r, "system_ram_usable_gb")
    gguf_user = spec.engine in understand.GGUF_FILE_ENGINES  # Ollama pulls a 4-bit file
    if v.answer == "yes" and usable is not None and bf16 > usable and not gguf_user:
        # "can I run 7B on a 16 GB M1?": not the published 16-bit weights; a 4-bit file
        # is the change that makes it work
        dtype = str(r.inputs.get("dtype", "a 4-bit file"))
        text = (
            f"Yes, in a quantized file ({dtype.upper()}): {v.text.removeprefix('Yes: ')[:-1]}; "
            f"unquantized (16-bit) it would need {fmt(bf16, 'GB')}, more than the "
            f"{fmt(usable, 'GB')} usable."
        )
        return Verdict(text, "yes_with_changes", v.key_numbers)
    text = f"{v.text[:-1]}; unquantized (16-bit) it would need {fmt(bf16, 'GB')}."
    return Verdict(text, v.answer, v.key_numbers)


def _memory_fit(spec: WorkloadSpec, r: ToolResult) -> Verdict:
    """inference_memory on named datacenter accelerators: yes / no / yes with a change."""
    if (v := _unsupported(r)) is not None:
        return v
    fits = _q(r, "fits")
    if fits is None:
        return Verdict(r.headline, "info", key_numbers(r))
    spare = _num(r, "headroom_gb")
    if fits.value is True and spare is not None and r.alternatives:
        alt = r.alternatives[0]
        change = f"{alt.label[0].lower()}{alt.label[1:]}"
        text = (
            f"Only just: {r.headline} That leaves {fmt(spare, 'GB')} per device for the KV "
            f"cache of more requests; for room to batch, {change} ({alt.detail})."
        )
        return Verdict(text, "yes_with_changes", key_numbers(r))
    if fits.value is True:
        return Verdict(f"Yes: {r.headline}", "yes", key_numbers(r))
    asked = spec.num_accelerators
    on_theirs = [
        a for a in r.alternatives if asked is None or a.values.get("accelerators", asked) <= asked
    ]
    if asked is not None and r.alternatives and not on_theirs:
        # "will one H100 be enough?": every change needs more cards than they asked about
        alt = r.alternatives[0]
        text = (
            f"No: {r.headline} Every change that fits needs more than {asked} device"
            f"{'s' if asked > 1 else ''}: {alt.label[0].lower()}{alt.label[1:]} ({alt.detail})."
        )
        return Verdict(text, "no", key_numbers(r))
    if on_theirs:
        alt = on_theirs[0]
        change = f"{alt.label[0].lower()}{alt.label[1:]}"
        if _changes_pinned_format(spec, change):
            text = f"No, not as asked: {r.headline} It would fit if you {change} ({alt.detail})."
            return Verdict(text, "no", key_numbers(r))
        text = f"Not as asked: {r.headline} It fits if you {change} ({alt.detail})."
        return Verdict(text, "yes_with_changes", key_numbers(r))
    return Verdict(f"No: {r.headline}", "no", key_numbers(r))


def _speed(spec: WorkloadSpec, r: ToolResult) -> Verdict | None:
    speed = _q(r, "decode_tokens_per_s")
    if speed is None:
        return None
    model, dtype, hw = r.inputs["model"], r.inputs["dtype"], r.inputs["hardware"]
    offload = _status(r) == "fits_with_offload"
    where = " with layers offloaded to system RAM" if offload else ""
    nums = key_numbers(r)
    bound = "FP16 compute" if "FP16 compute" in speed.label else "memory bandwidth"
    expect = (
        f"about {fmt(float(speed.value), 'tokens/s')} ({_speed_range(speed)}; one stream is "
        f"bound by {bound})"
    )
    four = _q(r, "decode_4bit_tokens_per_s")
    if four is not None:
        label = four.label.replace("Decode speed in ", "")
        expect += f", or about {fmt(float(four.value), 'tokens/s')} in a 4-bit {label} file"
    seen = spec.observed_tokens_per_s
    batched = _batched_speed(r, seen, model, dtype, hw, expect, nums)
    if batched is not None:
        return batched
    if seen is None:
        pre = _q(r, "prefill_tokens_per_s")
        pre_txt = f"; prompt processing about {fmt(float(pre.value), 'tokens/s')}" if pre else ""
        text = f"Expect {expect} for one stream of {model} in {dtype} on {hw}{where}{pre_txt}."
        if spec.reports_slow:
            # "it is too slow, is that normal?" with no figure: what to compare, and the usual
            # reasons for far less
            cause = (
                "part of the model runs from system RAM" if offload else _slow_causes(spec, dtype)
            )
            text += f" If you see far less: {cause}."
        return Verdict(text, "info", nums)
    low = speed.low if speed.low is not None else float(speed.value)
    high = speed.high if speed.high is not None else float(speed.value)
    seen_txt = fmt(seen, "tokens/s")
    if low * NORMAL_SLACK <= seen <= high / NORMAL_SLACK:
        text = (
            f"Yes, {seen_txt} is about what {hw} should give: expect {expect} for one stream "
            f"of {model} in {dtype}{where}."
        )
        return Verdict(text, "yes", nums)
    if seen < low * NORMAL_SLACK:
        cause = "part of the model runs from system RAM" if offload else _slow_causes(spec, dtype)
        text = (
            f"No, {seen_txt} is slow for {hw}: one stream of {model} in {dtype} should reach "
            f"{expect}{where}; {cause}."
        )
        return Verdict(text, "no", nums)
    text = (
        f"{seen_txt} is faster than one stream of {model} in {dtype} should run on {hw} "
        f"({expect}): check that it is one stream at batch 1, or that the model or format is "
        "the one named."
    )
    return Verdict(text, "info", nums)


def _batched_speed(
    r: ToolResult, seen: float | None, model: str, dtype: str, hw: str, one: str, nums: list[str]
) -> Verdict | None:
    """A speed at a batch: the user's batch, or the batch that explains a total they measured."""
    total = _q(r, "decode_batch_tokens_per_s")
    found = _q(r, "batch_for_observed")
    if found is not None and isinstance(found.value, str) and seen is not None:
        text = (
            f"{fmt(seen, 'tokens/s')} is more than {hw} can decode for {model} in {dtype}, even "
            f"with many streams batched together (one stream: {one}): check the model, the "
            "format and whether the figure counts prompt tokens too."
        )
        return Verdict(text, "no", nums)
    if total is None:
        return None
    batch = int(r.inputs.get("batch_size") or 1)
    all_txt = f"about {fmt(float(total.value), 'tokens/s')} in total ({_speed_range(total)})"
    nums = [f"{total.label}: {total.render()}", *nums][:6]
    if found is not None:
        batch = int(float(found.value))
        text = (
            f"{fmt(seen or 0.0, 'tokens/s')} is a batched figure, the total of many streams "
            f"decoded together: one stream of {model} in {dtype} on {hw} runs at {one}; about "
            f"{batch} streams at once (batch {batch}) give {all_txt}. Throughput grows with the "
            "batch size until compute or KV-cache memory runs out, so compare benchmarks at "
            "the same batch size, prompt and output lengths."
        )
        return Verdict(text, "info", nums)
    if seen is None:
        text = (
            f"At batch {batch}, {model} in {dtype} on {hw} decodes {all_txt}; each stream at {one}."
        )
        return Verdict(text, "info", nums)
    low = total.low if total.low is not None else float(total.value)
    high = total.high if total.high is not None else float(total.value)
    seen_txt = fmt(seen, "tokens/s")
    if low * NORMAL_SLACK <= seen <= high / NORMAL_SLACK:
        text = (
            f"Yes, {seen_txt} is about what {hw} should give at batch {batch}: {model} in "
            f"{dtype} decodes {all_txt} over {batch} streams (one stream: {one})."
        )
        return Verdict(text, "yes", nums)
    if seen < low * NORMAL_SLACK:
        text = (
            f"No, {seen_txt} is slow for batch {batch} on {hw}: {model} in {dtype} should decode "
            f"{all_txt} over {batch} streams (one stream: {one})."
        )
        return Verdict(text, "no", nums)
    text = (
        f"{seen_txt} is more than batch {batch} of {model} in {dtype} should give on {hw} "
        f"({all_txt}): check that the figure is output tokens only, and the model and format."
    )
    return Verdict(text, "info", nums)


def _slow_causes(spec: WorkloadSpec, dtype: str) -> str:
    """The usual reasons one stream runs well below its bandwidth bound, for this engine."""
    gguf = spec.engine is None or spec.engine in understand.GGUF_FILE_ENGINES
    if gguf and not dtype.startswith(("gptq", "awq")):
        causes = [
            "some layers are not on the GPU (check -ngl / n_gpu_layers or the offload setting)",
            "more CPU threads than physical cores (-t)",
            "a debug rather than a release build",
        ]
    else:
        causes = ["layers placed on the CPU (device_map='auto' offloads without saying so)"]
    if dtype.startswith(("gptq", "awq", "int4", "nf4")) and spec.engine not in ("exllama", "vllm"):
        causes.append(
            f"{dtype.upper()} kernels in transformers/AutoGPTQ/bitsandbytes run far below the "
            "bandwidth limit at batch 1 (ExLlamaV2 or vLLM's Marlin kernels are faster)"
        )
    if (spec.accelerator or "").startswith("apple-") or spec.unified_memory_gb:
        # Docker Desktop and VMs on macOS expose no Metal GPU: the model runs on the CPU
        causes.append(
            "running inside Docker or a VM on macOS (containers get no Metal GPU, so it runs on "
            "the CPU; run it natively)"
        )
    causes.append("a long context, or another process sharing the card")
    return "usually " + "; ".join(causes)


def _stated_hardware(spec: WorkloadSpec) -> bool:
    """The question names the user's GPUs (a card, or memory per card), not only a model."""
    return bool(spec.accelerator or spec.device_memory_gb or spec.unified_memory_gb)


def _training_fit(spec: WorkloadSpec, r: ToolResult) -> Verdict | None:
    fits_q = _q(r, "fits")
    if fits_q is None:
        return None
    total = fmt(_num(r, "total_gb") or 0.0, "GB")
    label = fits_q.label.replace("Fits ", "")
    nums = key_numbers(r)
    method = str(r.inputs.get("method", "full"))
    what = fine_tuning_name(method)
    if fits_q.value is True:
        text = f"Yes: {what} of {r.inputs['model']} needs about {total} per GPU, within {label}."
        return Verdict(text, "yes", nums)
    working = [a for a in r.alternatives if a.values.get("fits") == 1.0]
    text = f"No: {what} of {r.inputs['model']} needs about {total} per GPU, more than {label}."
    need = _num(r, "min_accelerators")
    if spec.kind == "capacity" and need is not None:
        # "how many A100s to fully fine-tune a 13B?": the count first
        text = (
            f"At least {int(need)} GPUs like {label}: {what} of {r.inputs['model']} needs about "
            f"{total} on one, and sharded with ZeRO-3 / FSDP over {int(need)} it fits."
        )
        practical = _num(r, "gpus")
        if practical is not None:
            text += f" In practice that is {_servers(int(practical))}."
        return Verdict(text, "info", nums)  # other methods stay under Details
    if need is not None:
        text += f" Sharded with ZeRO-3 / FSDP it needs at least {int(need)} such GPUs."
    n = int(r.inputs.get("num_gpus") or 1)
    if (
        working
        and working[0].label == "ZeRO-3 / FSDP"
        and n > 1
        and spec.kind == "fit"
        and spec.zero_stage is None
    ):
        # "can I train it on my 4 A6000s?": nothing was set up, and using the four together
        # means sharding them; a full copy per GPU (plain DDP) is the figure that fails
        alt = working[0]
        text = (
            f"Yes, sharded over the {n} GPUs with ZeRO-3 / FSDP: {what} of "
            f"{r.inputs['model']} then needs {alt.detail}; a full copy on each GPU (plain data "
            f"parallel) would need about {total} per GPU, more than {label}."
        )
        return Verdict(text, "yes", nums)
    if working:
        # the cheapest change first: one on the GPUs they have (8-bit optimizer, offload,
        # LoRA, QLoRA) before buying more GPUs to shard over
        same_gpus = [a for a in working if not re.match(r"\d+ GPUs\b", a.label)]
        alt = (same_gpus or working)[0]
        if not same_gpus and _stated_hardware(spec) and spec.kind != "capacity":
            # "can I fine-tune falcon-7b with 8 GB?": the only way is GPUs they do not have,
            # so on their hardware the answer is no; what would work follows
            text = (
                f"No, not on {'one such GPU' if n == 1 else f'{n} such GPUs'}: {what} of "
                f"{r.inputs['model']} needs about {total} per GPU, more than {label}. It would "
                f"fit with {alt.label} ({alt.detail.replace(' (fits)', '')})."
            )
            return Verdict(text, "no", nums)
        text = (
            f"Not as set up: {what} of {r.inputs['model']} needs about {total} per GPU, more "
            f"than {label}. It fits if you use {alt.label} "
            f"({alt.detail.replace(' (fits)', '')})."
        )
        if need is not None and not alt.label.startswith(f"{int(need)} GPUs"):
            text += f" Or shard it with ZeRO-3 / FSDP over at least {int(need)} such GPUs."
        return Verdict(text, "yes_with_changes", nums)
    return Verdict(text, "no", nums)


def _servers(n: int) -> str:
    """'8 GPUs, one 8-GPU server' / '16 GPUs, two 8-GPU servers' / '4 GPUs in one server'."""
    if n <= 8:
        return f"{n} GPUs in one server" if n < 8 else "8 GPUs, one 8-GPU server"
    servers = n // 8
    words = {2: "two", 3: "three", 4: "four"}
    return f"{n} GPUs, {words.get(servers, str(servers))} 8-GPU servers"


def _other_sizes(r: ToolResult, results: list[ToolResult]) -> str:
    """'Llama 2 13B: about 9.9 GB (fits); Llama 2 70B: ...' for the other sizes asked about."""
    parts, methods = [], []
    for o in results:
        if o is r or o.tool != r.tool:
            continue
        other_method = o.inputs.get("method") != r.inputs.get("method")
        if o.inputs.get("model") == r.inputs.get("model") and not other_method:
            continue
        need = _num(o, "memory_gb") or _num(o, "total_gb")
        if need is None:
            continue
        fits = _q(o, "fits")
        mark = "" if fits is None else " (fits)" if fits.value is True else " (does not fit)"
        if other_method and o.inputs.get("model") == r.inputs.get("model"):
            method = METHOD_NAMES.get(str(o.inputs.get("method")), str(o.inputs.get("method")))
            n = int(o.inputs.get("num_gpus") or 1)
            where = "on one GPU" if n == 1 else f"per GPU over {n}"
            least = _num(o, "min_accelerators") if fits is not None and not fits.value else None
            sharded = f", at least {int(least)} GPUs sharded with ZeRO-3" if least else ""
            methods.append(f"{method}: about {fmt(need, 'GB')} {where}{mark}{sharded}")
        else:
            parts.append(f"{o.inputs.get('model')}: about {fmt(need, 'GB')}{mark}")
    out = []
    if methods:
        out.append(f"Other methods: {'; '.join(methods)}.")
    if parts:
        out.append(f"The other sizes named: {'; '.join(parts)}.")
    return " ".join(out)


def _stages(spec: WorkloadSpec, r: ToolResult, results: list[ToolResult]) -> Verdict | None:
    """An OOM on several GPUs that fits sharded at ZeRO-3 but not at ZeRO-2: the config's
    stage is the likely cause."""
    if spec.kind != "troubleshoot" or r.inputs.get("zero_stage") != 3:
        return None
    two = next(
        (x for x in results if x.tool == "training_memory" and x.inputs.get("zero_stage") == 2),
        None,
    )
    fits3, fits2 = _q(r, "fits"), _q(two, "fits") if two is not None else None
    if two is None or fits3 is None or fits2 is None:
        return None
    if not (fits3.value is True and fits2.value is False):
        return None
    label = fits3.label.replace("Fits ", "")
    n = int(r.inputs.get("num_gpus") or 1)
    text = (
        "If your DeepSpeed config is at ZeRO stage 2 or below, that is why it runs out of "
        f"memory: full fine-tuning of "
        f"{r.inputs['model']} over {n} GPUs needs about {fmt(_num(two, 'total_gb') or 0.0, 'GB')} "
        f"per GPU at ZeRO-2, more than {label}, and about "
        f"{fmt(_num(r, 'total_gb') or 0.0, 'GB')} at ZeRO-3 (parameters sharded too), which "
        'fits: set "zero_optimization": {"stage": 3} in the DeepSpeed config (or FSDP full '
        "sharding)."
    )
    return Verdict(text, "yes_with_changes", key_numbers(r), troubleshooting=True)


def _serving_speed(spec: WorkloadSpec, r: ToolResult) -> Verdict | None:
    one = _q(r, "tokens_per_s_per_stream")
    tpot = _q(r, "tpot_ms_batch1")
    ttft = _q(r, "ttft_s")
    if one is None or tpot is None:
        return None
    batch = _num(r, "batch")
    total = _num(r, "tokens_per_s")
    asked = spec.batch_size or spec.concurrency
    if asked and asked > 1 and batch and total and int(batch) == int(asked):
        # "at batch 64": the total of the batch first, then one stream
        text = (
            f"At batch {int(batch)}, about {fmt(total, 'tokens/s')} in total "
            f"({fmt(total / batch, 'tokens/s')} per stream); one stream alone runs at about "
            f"{fmt(float(one.value), 'tokens/s')} ({fmt(float(tpot.value), 'ms')} per token)"
        )
    else:
        text = (
            f"One stream runs at about {fmt(float(one.value), 'tokens/s')} "
            f"({fmt(float(tpot.value), 'ms')} per token at batch 1)"
        )
    if ttft is not None:
        text += f", with the first token after about {fmt(float(ttft.value), 's')}"
    where = f"{r.inputs.get('model', 'the model')} in {r.inputs.get('dtype', 'bf16')}"
    on = re.search(r"\) on (.+?): ", r.headline)  # "... (bf16) on 4 x NVIDIA H100 ...: "
    if on:
        where += f" on {on.group(1)}"
        tp = _num(r, "tensor_parallel")
        if tp and tp > 1 and not spec.num_accelerators:
            where += f", {int(tp)}-way tensor parallel: one card cannot hold it"
    text += f" ({where}); throughput with many users is under Details."
    return Verdict(text, "info", key_numbers(r))


def _price_rows(r: ToolResult, limit: int = 4) -> list[str]:
    """The cheapest few instances of a price lookup, one line each."""
    out = []
    for row in (r.table or [])[:limit]:
        out.append(
            f"{row['provider']} {row['instance']} ({row['accelerators']}, {row['region']}): "
            f"{fmt(float(row['usd_per_hour']), '$')}/h, "
            f"{fmt(float(row['usd_per_gpu_hour']), '$')} per GPU-hour, "
            f"{fmt(float(row['usd_per_month']), '$')}/month"
        )
    return out


def _duration(r: ToolResult) -> Verdict:
    """How long a training job takes: wall-clock on the GPUs named, and the GPU-hours."""
    hours = _q(r, "wall_clock_hours")
    gpu_h = _q(r, "gpu_hours")
    n = _num(r, "num_accelerators")
    tokens = float(r.inputs.get("tokens") or 0)
    model = r.inputs.get("model", "the model")
    if hours is None or gpu_h is None or n is None:
        return Verdict(r.headline, "info", key_numbers(r))
    span = (
        f"{fmt(float(hours.value) / 24, 'days')}"
        if float(hours.value) >= 72
        else f"{fmt(float(hours.value), 'h')}"
    )
    text = (
        f"About {span} on {int(n)} x {gpu_h.label.removesuffix('-hours')} "
        f"({fmt(float(gpu_h.value), 'GPU-hours')}) for {model} on {fmt(tokens, 'tokens')}, at "
        "the utilisation assumed below."
    )
    return Verdict(text, "info", key_numbers(r))


def _tokens_txt(n: float) -> str:
    """1e11 -> '100B tokens', 2.5e8 -> '250M tokens'."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix} tokens"
    return fmt(n, "tokens")


def _deadline(spec: WorkloadSpec, r: ToolResult) -> Verdict | None:
    """'Can I train it on my 8 A100s in a week?': the duration on their GPUs against the
    deadline, and the GPU count that would meet it when it does not."""
    days = _num(r, "wall_clock_days")
    n = _num(r, "num_accelerators")
    gpu_h = _q(r, "gpu_hours")
    if days is None or n is None or gpu_h is None or not spec.deadline_days:
        return None
    label = gpu_h.label.removesuffix("-hours")
    model = r.inputs.get("model", "the model")
    tokens = _tokens_txt(float(r.inputs.get("tokens") or 0))
    limit = spec.deadline_days
    if days <= limit:
        text = (
            f"Yes: {model} on {tokens} takes about {fmt(days, 'days')} on {int(n)} x {label}, "
            f"within the {fmt(limit, 'days')}, at the utilisation assumed below."
        )
        return Verdict(text, "yes", key_numbers(r))
    need = math.ceil(n * days / limit)
    text = (
        f"No: {model} on {tokens} takes about {fmt(days, 'days')} on {int(n)} x {label}, more "
        f"than the {fmt(limit, 'days')}; about {need} such GPUs would finish in time, at the "
        "utilisation assumed below."
    )
    return Verdict(text, "no", key_numbers(r))


def _hardware_limit(r: ToolResult) -> Verdict:
    """A memory trouble with no model named: what the hardware can hold, from its pools."""
    usable = _q(r, "device_memory_gb")
    if usable is None:
        return Verdict(r.headline, "info", key_numbers(r))
    text = (
        f"{usable.label}: about {usable.render()}. A model whose weights and KV cache need "
        "more than that will not load on the GPU alone (offload layers to the CPU, use a "
        f"smaller format or shorten the context). {r.headline}"
    )
    why = [a for a in r.assumptions if "recommendedMaxWorkingSetSize" in a]
    if why:
        text += f" {why[0]}"
    return Verdict(text, "info", key_numbers(r))


def _troubleshoot(spec: WorkloadSpec, v: Verdict) -> Verdict:
    if v.answer == "yes":
        text = (
            "On paper it fits, so the out-of-memory error likely comes from the engine's "
            "settings rather than the model size: " + v.text[len("Yes: ") :]
        )
        if spec.engine == "vllm":
            text += (
                " vLLM reserves gpu_memory_utilization (0.9) of the card and sizes the KV cache "
                "for max_model_len: lower them."
            )
        return Verdict(text, "info", v.key_numbers)
    lead, _, reason = v.text.partition(": ")
    if lead == "Only just":
        return Verdict(
            f"It fits only just, which is likely why it runs out of memory: {reason}",
            v.answer,
            v.key_numbers,
        )
    return Verdict(f"It runs out of memory because {reason}", v.answer, v.key_numbers)


def _options(spec: WorkloadSpec, results: list[ToolResult]) -> Verdict | None:
    """Several hardware options for one workload: which one runs it, and how they compare."""
    rows = []
    for r in results:
        fits = _q(r, "fits")
        speed = _num(r, "decode_tokens_per_s")
        need = _num(r, "memory_gb") or _num(r, "total_gb")
        where = r.inputs.get("hardware") or r.inputs.get("accelerator") or "?"
        if r.tool == "training_memory":
            where = (
                f"{r.inputs.get('num_gpus', 1)} x {fits.label.replace('Fits ', '')}"
                if fits
                else where
            )
        rows.append((r, bool(fits and fits.value is True), speed, need, where))
    if len(rows) < 2:
        return None
    ok = [row for row in rows if row[1]]
    parts = []
    for _, fit, speed, need, where in rows:
        state = "fits" if fit else "does not fit"
        extra = f", about {fmt(speed, 'tokens/s')}" if speed is not None and fit else ""
        parts.append(f"{where}: {state} ({fmt(need or 0.0, 'GB')} needed{extra})")
    model = rows[0][0].inputs.get("model", "the model")
    if not ok:
        return Verdict(f"Neither option runs {model} as asked: " + "; ".join(parts) + ".", "no", [])
    best = max(ok, key=lambda row: row[2] or 0.0)
    lead = f"{best[4]} is the better choice for {model}" if len(ok) < len(rows) or best[2] else ""
    text = (lead + ": " if lead else "") + "; ".join(parts) + "."
    return Verdict(text[0].upper() + text[1:], "info", key_numbers(best[0]))


RETIRED_RE = re.compile(r"^(\S+) is retired: ")


def compose(spec: WorkloadSpec, results: list[ToolResult]) -> Verdict | None:
    """The verdict for ``spec.kind`` from the first result that answers it, or None; a retired
    instance is said first ("Standard_NC6 is retired ...; on the hardware it had: ...")."""
    v = _compose(spec, results)
    if v is None:
        return None
    for r in results:
        for w in r.warnings:
            if (m := RETIRED_RE.match(w)) and m.group(1) not in v.text[:80]:
                text = f"{m.group(1)} is retired and cannot be rented now; on the hardware it had: "
                return Verdict(
                    text + v.text[0].lower() + v.text[1:],
                    v.answer,
                    v.key_numbers,
                    v.troubleshooting,
                )
    return v


def _cheapest_by_option(spec: WorkloadSpec, results: list[ToolResult]) -> Verdict | None:
    """'L4 or A10G for Llama 3 8B on AWS?': the cheapest placement of each card compared."""
    ranked = next((r for r in results if r.tool == "compare_options" and r.table), None)
    if ranked is None or not spec.options or len(spec.options) < 2:
        return None
    key = "usd_per_m_tokens" if ranked.inputs.get("workload") != "training" else "cost_usd"
    parts: list[tuple[float, str, str]] = []
    for acc_id, _ in spec.options:
        name = _accelerator_name(acc_id)
        rows = [
            row
            for row in ranked.table or []
            if row.get("fits")
            and isinstance(row.get(key), int | float)
            and name in row["accelerators"]
        ]
        if not rows:
            continue
        best = min(rows, key=lambda row: float(row[key]))
        unit = "per million tokens" if key == "usd_per_m_tokens" else "for the job"
        parts.append(
            (
                float(best[key]),
                name,
                f"{name}: cheapest as {best['provider']} {best['instance']} "
                f"({best['accelerators']}, {best['region']}) at {fmt(float(best[key]), '$')} "
                f"{unit}",
            )
        )
    if len(parts) < 2:
        return None
    parts.sort()
    model = ranked.inputs.get("model", "the model")
    text = f"{parts[0][1]} is cheaper for {model}: " + "; ".join(p[2] for p in parts) + "."
    return Verdict(text, "info", [])


def _accelerator_name(acc_id: str) -> str:
    """The catalog name of ``acc_id`` as the ranking's rows print it ("NVIDIA L4")."""
    return load_catalog().accelerator(acc_id).name.split(" (")[0]


def _card_ladder(spec: WorkloadSpec, results: list[ToolResult]) -> Verdict | None:
    """'Which GPU should I buy to run X locally?': the smallest card tier that holds it on the
    GPU, the faster ones above it, and what the smaller ones would need."""
    runs = [r for r in results if r.tool == "run_on_hardware"]
    if not spec.buying_local or len(runs) < 2:
        return None
    pairs = [r for r in runs if re.match(r"\d+ x ", str(r.inputs.get("hardware", "")))]
    runs = [r for r in runs if r not in pairs]
    model, dtype = runs[0].inputs["model"], runs[0].inputs["dtype"]
    need = _num(runs[0], "memory_gb") or 0.0

    def speed(r: ToolResult) -> str:
        q = _q(r, "decode_tokens_per_s")
        return f", about {fmt(float(q.value), 'tokens/s')}" if q is not None else ""

    fits = [r for r in runs if _status(r) == "fits"]
    below = [r for r in runs if _status(r) != "fits"]
    pair = next((r for r in pairs if _status(r) == "fits"), None)
    pair_txt = ""
    if pair is not None and (not fits or (_num(fits[0], "device_memory_gb") or 0) > 40):
        pair_txt = (
            f" Two cards also hold it: {pair.inputs['hardware']} (layers split across the "
            f"two){speed(pair)}."
        )
    if not fits:
        text = (
            f"None of the usual cards up to {runs[-1].inputs['hardware']} holds {model} in "
            f"{dtype} (about {fmt(need, 'GB')}): use several cards, a smaller format or a "
            "smaller model, or offload to system RAM."
        )
        return Verdict(text + pair_txt, "info", key_numbers(pair or runs[-1]))
    first = fits[0]
    text = (
        f"The smallest card that holds {model} in {dtype} (about {fmt(need, 'GB')}) on the "
        f"GPU: {first.inputs['hardware']}{speed(first)}"
    )
    more = [f"{r.inputs['hardware']}{speed(r)}" for r in fits[1:]]
    if more:
        text += f"; larger or faster: {'; '.join(more)}"
    smaller = [r for r in below if runs.index(r) < runs.index(first)]
    if smaller:
        r = smaller[-1]
        status = (
            "runs with layers offloaded to system RAM"
            if _status(r) == ("fits_with_offload")
            else "does not hold it"
        )
        text += f". {r.inputs['hardware']} {status}{speed(r) if 'offloaded' in status else ''}"
    return Verdict(text + "." + pair_txt, "info", key_numbers(first))


def _compose(spec: WorkloadSpec, results: list[ToolResult]) -> Verdict | None:
    ladder = _card_ladder(spec, results)
    if ladder is not None:
        return ladder
    if spec.kind in ("cost", "choose") and spec.options:
        cheapest = _cheapest_by_option(spec, results)
        if cheapest is not None:
            return cheapest
    if spec.kind == "choose" and spec.options and len(results) >= 2:
        compared = _options(spec, results)
        if compared is not None:
            return compared
    published = next((r for r in results if r.tool == "published_training"), None)
    # adapting a model (LoRA, QLoRA, a named full fine-tune) is not how it was pretrained; a
    # bare "train" is read as full fine-tuning and still asks about the published run
    fine_tune = spec.workload in ("lora", "qlora") or spec.method is not None
    if published is not None and not (
        spec.owns_hardware
        or spec.num_accelerators
        or spec.tokens
        or spec.deadline_days
        or fine_tune
    ):
        # "how long did it take to train X?": what its developers reported, then the estimate
        return Verdict(published.headline, "info", key_numbers(published))
    ranked = next(
        (
            r
            for r in results
            if r.tool == "compare_options" and r.inputs.get("workload") == "training"
        ),
        None,
    )
    serving_cost = next(
        (r for r in results if r.tool == "compare_options" and r.inputs.get("target_tokens_per_s")),
        None,
    )
    if spec.kind == "cost" and serving_cost is not None:
        # "what would 1M requests a day cost?": the cheapest monthly bill for that rate
        return Verdict(serving_cost.headline, "info", key_numbers(serving_cost))
    if spec.kind == "cost" and ranked is not None:
        # "what does it cost to fine-tune X on 50k examples on AWS?": the cheapest job first
        return Verdict(ranked.headline, "info", key_numbers(ranked))
    timed = next((r for r in results if r.tool == "training_estimate"), None)
    if timed is not None and spec.deadline_days and spec.num_accelerators:
        deadline = _deadline(spec, timed)
        if deadline is not None:
            return deadline
    if timed is not None and spec.kind == "duration":
        return _duration(timed)
    diagnosis = next((r for r in results if r.tool == "diagnose_error"), None)
    if diagnosis is not None and spec.kind in ("explain", "availability"):
        return Verdict(diagnosis.headline, "info", [])  # "why does it fail?": the message says
    for r in results:
        v: Verdict | None = None
        if r.tool == "run_on_hardware":
            v = _speed(spec, r) if spec.kind == "speed" else _hardware_fit(spec, r)
            if v is not None and spec.kind != "speed":
                v = _with_bf16(spec, r, v)
        elif r.tool == "training_memory":
            v = _stages(spec, r, results) or _training_fit(spec, r)
        elif r.tool == "gpu_prices":
            return Verdict(r.headline, "info", _price_rows(r))
        elif r.tool in (
            "diagnose_availability",
            "tensor_parallel_options",
            "compare_accelerators",
            "storage_estimate",
        ):
            return Verdict(r.headline, "info", [])
        elif r.tool == "models_for_hardware" and spec.kind == "troubleshoot":
            return _hardware_limit(r)
        elif r.tool == "models_for_hardware":
            v = Verdict(r.headline, "info", key_numbers(r))
        elif r.tool == "serving_estimate" and spec.kind == "speed":
            v = _serving_speed(spec, r)
        elif (
            r.tool == "serving_estimate"
            and _q(r, "tensor_parallel_note") is not None
            and spec.kind in ("explain", "troubleshoot", "speed", None)
        ):
            # "why is tensor parallel slower than one GPU?": the model fits on one
            note = _q(r, "tensor_parallel_note")
            assert note is not None
            v = Verdict(
                f"{str(note.value)[0].upper()}{str(note.value)[1:]}.", "info", key_numbers(r)
            )
        elif r.tool == "inference_memory" and spec.kind in ("fit", "troubleshoot"):
            v = _memory_fit(spec, r)
        if v is not None:
            note = _q(r, "half_precision_note")
            if note is not None:  # the card is slow in 16-bit: part of the answer
                v = Verdict(
                    f"{v.text} Note: {note.value}.", v.answer, v.key_numbers, v.troubleshooting
                )
            tp_note = _q(r, "tensor_parallel_note")
            if tp_note is not None and str(tp_note.value) not in v.text:
                v = Verdict(
                    f"{v.text} Note: {tp_note.value}.", v.answer, v.key_numbers, v.troubleshooting
                )
            one = _q(r, "fits_one_device")
            if one is not None and spec.kind in ("speed", "troubleshoot", "explain"):
                v = Verdict(
                    f"{v.text} Also, {one.value}.", v.answer, v.key_numbers, v.troubleshooting
                )
            if diagnosis is not None:
                said = _q(diagnosis, "diagnosis")
                v = Verdict(
                    f"{v.text} The error: {said.value if said else diagnosis.headline}",
                    v.answer,
                    v.key_numbers,
                    v.troubleshooting,
                )
            others = _other_sizes(r, results)
            if others:
                v = Verdict(f"{v.text} {others}", v.answer, v.key_numbers, v.troubleshooting)
            rephrase = spec.kind == "troubleshoot" and not v.troubleshooting
            return _troubleshoot(spec, v) if rephrase else v
    if diagnosis is not None:
        return Verdict(diagnosis.headline, "info", [])
    return None
