"""Which calculators a WorkloadSpec calls, with which inputs, and what it must ask or assume.

The rules are deterministic. Missing slots become stated assumptions (bf16, an H100, 70%
utilization) except the model size, which is never guessed: a clarifying question is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.errors import AdvisorError
from advisor.route import WorkloadSpec
from advisor.tools import (
    break_even,
    compare_options,
    cost_per_million_tokens,
    decide,
    inference_memory,
    job_cost,
    onprem_tco,
    serving_estimate,
    storage_estimate,
    training_estimate,
    training_memory,
)
from advisor.tools.catalog import Catalog
from advisor.tools.result import ToolResult

NEEDS_MODEL = {"size", "train", "serve"}
DEFAULT_ACCELERATOR = "h100-sxm"


@dataclass
class ToolCall:
    tool: str
    inputs: dict[str, Any]
    result: ToolResult | None = None
    error: str | None = None


@dataclass
class Plan:
    calls: list[ToolCall] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    clarification: str | None = None


def _model_ref(spec: WorkloadSpec) -> str | float | None:
    return spec.model or spec.params_b


def _server_for(cat: Catalog, accelerator: str | None) -> str:
    acc = accelerator or DEFAULT_ACCELERATOR
    for srv in cat.onprem.servers:
        if srv.accelerator == acc:
            return str(srv.id)
    return "hgx-h100-8"


def _instance_for(cat: Catalog, accelerator: str, provider: str | None) -> tuple[str, str] | None:
    """The cheapest on-demand instance carrying ``accelerator`` (optionally at ``provider``)."""
    best: tuple[float, str, str] | None = None
    for inst in cat.instances:
        if inst.accelerator != accelerator or (provider and inst.provider != provider):
            continue
        price = inst.prices[0]
        if price.price_basis != "on_demand":
            continue
        per_acc = price.on_demand_usd_per_hour / inst.accelerator_count
        if best is None or per_acc < best[0]:
            best = (per_acc, inst.provider, inst.name)
    return (best[1], best[2]) if best else None


def decide_factors(question: str, spec: WorkloadSpec) -> dict[str, int]:
    """Map cues in the question to the decision aid's 1-5 factors."""
    text = question.lower()
    f: dict[str, int] = {}
    if spec.utilization is not None:
        f["utilization"] = 5 if spec.utilization >= 0.7 else 1 if spec.utilization <= 0.3 else 3
    if re.search(r"\b(asap|urgent|next week|this month|right away|quickly|now)\b", text):
        f["urgency"] = 5
    if re.search(
        r"\b(regulat\w*|hipaa|gdpr|sovereign\w*|bank\w*|health\w*|government|"
        r"defen[cs]e|patient|compliance|residency)\b",
        text,
    ):
        f["sovereignty"] = 5
    if re.search(r"\bstartup\b|\bsmall team\b|\bno (ops|infra) team\b", text):
        f["skills"], f["urgency"] = 2, f.get("urgency", 4)
    if re.search(r"\b(spiky|bursty|seasonal|experiment\w*|prototype|pilot|poc)\b", text):
        f["elasticity"] = 5
    if re.search(r"\b(steady|24/7|around the clock|constant)\b", text):
        f["utilization"] = 5
    if spec.years is not None:
        f["horizon"] = 5 if spec.years >= 3 else 1 if spec.years <= 1 else 3
    if re.search(r"\b(lock-?in|portab\w*|vendor independence)\b", text):
        f["lock_in_aversion"] = 5
    if re.search(r"\b(custom\w*|control)\b", text):
        f["control"] = 4
    return f


def plan(question: str, spec: WorkloadSpec, cat: Catalog) -> Plan:
    p = Plan()
    intents = set(spec.intents)
    model = _model_ref(spec)
    if model is None and intents & NEEDS_MODEL and "explain" not in intents:
        p.clarification = (
            "Which model should I size for? Give a name (e.g. 'Llama 3.1 70B') or a size "
            "(e.g. 'a 13B model')."
        )
    acc = spec.accelerator
    dtype = spec.dtype or "bf16"
    if model is not None and intents & NEEDS_MODEL and spec.dtype is None:
        p.assumptions.append("Weights in bf16 (no precision given).")
    if model is not None and "size" in intents:
        args: dict[str, Any] = {"model": model, "dtype": dtype}
        if spec.context_tokens:
            args["context_tokens"] = spec.context_tokens
        if spec.instance:
            args.update(instance=spec.instance, provider=spec.provider)
        else:
            args["accelerator"] = acc or DEFAULT_ACCELERATOR
            if spec.num_accelerators:
                args["num_accelerators"] = spec.num_accelerators
        if not acc and not spec.instance:
            p.assumptions.append("Sized on NVIDIA H100 SXM 80 GB (no accelerator given).")
        p.calls.append(ToolCall("inference_memory", args))
    if model is not None and "train" in intents:
        if spec.tokens:
            args = {
                "model": model,
                "tokens": spec.tokens,
                "accelerator": acc or DEFAULT_ACCELERATOR,
            }
            if spec.deadline_days:
                args["deadline_days"] = spec.deadline_days
            elif spec.num_accelerators:
                args["num_accelerators"] = spec.num_accelerators
            p.calls.append(ToolCall("training_estimate", args))
        method = spec.method or ("full" if spec.tokens else "lora")
        if spec.method is None:
            p.assumptions.append(
                "Full training with AdamW."
                if method == "full"
                else "LoRA fine-tuning (rank 16) with activation checkpointing; say 'full "
                "fine-tune' or 'QLoRA' for the others."
            )
        n = spec.num_accelerators or (8 if method == "full" else 1)
        p.calls.append(
            ToolCall(
                "training_memory",
                {
                    "model": model,
                    "method": method,
                    "num_gpus": n,
                    "zero_stage": 3 if n > 1 and method == "full" else 0,
                    "activation_checkpointing": True,
                    "accelerator": acc or DEFAULT_ACCELERATOR,
                },
            )
        )
    if model is not None and "serve" in intents:
        args = {"model": model, "accelerator": acc or DEFAULT_ACCELERATOR, "dtype": dtype}
        if spec.requests_per_s:
            args["target_requests_per_s"] = spec.requests_per_s
        if spec.tokens_per_s:
            args["target_tokens_per_s"] = spec.tokens_per_s
        if spec.concurrency:
            args["concurrency"] = spec.concurrency
        if spec.latency_s:
            args["ttft_slo_s"] = spec.latency_s
        if spec.context_tokens:
            args["prompt_tokens"] = spec.context_tokens
        if not acc:
            p.assumptions.append("Served on NVIDIA H100 SXM (no accelerator given).")
        p.calls.append(ToolCall("serving_estimate", args))
    if model is not None and intents & {"cost", "compare"}:
        training = "train" in intents and spec.tokens
        args = {
            "model": model,
            "workload": "training" if training else "inference",
            "dtype": dtype,
            "top": 5,
            "pricing": spec.pricing or "on_demand",
        }
        if training:
            args["tokens"] = spec.tokens
        if spec.provider:
            args["providers"] = [spec.provider]
        if spec.region:
            args["region"] = spec.region
        elif spec.geography:
            args["geography"] = spec.geography
        if spec.tokens_per_s and not training:
            args["target_tokens_per_s"] = spec.tokens_per_s
        p.calls.append(ToolCall("compare_options", args))
    if "tco" in intents:
        server = _server_for(cat, acc)
        srv = cat.server(server)
        inst = (
            (spec.provider, spec.instance)
            if spec.instance
            else _instance_for(cat, srv.accelerator, spec.provider)
        )
        util = spec.utilization if spec.utilization is not None else 0.7
        if spec.utilization is None:
            p.assumptions.append("70% utilization of the GPUs (none given).")
        if inst:
            args = {"server": server, "provider": inst[0], "instance": inst[1], "utilization": util}
            if spec.years:
                args["years"] = spec.years
            if spec.num_accelerators and spec.num_accelerators > srv.accelerator_count:
                args["num_servers"] = -(-spec.num_accelerators // srv.accelerator_count)
            p.calls.append(ToolCall("break_even", args))
    infra = re.search(
        r"\b(cloud|on-?prem\w*|buy|rent\w*|hardware|gpus?|data ?cent\w*|"
        r"infrastructure|hosting|servers?|colo\w*|aws|azure|gcp)\b",
        question.lower(),
    )
    if infra and ("decide" in intents or ("tco" in intents and "cloud" in question.lower())):
        p.calls.append(ToolCall("decide", decide_factors(question, spec)))
    return p


TOOL_FUNCS: dict[str, Callable[..., ToolResult]] = {
    "inference_memory": inference_memory,
    "training_estimate": training_estimate,
    "training_memory": training_memory,
    "serving_estimate": serving_estimate,
    "compare_options": compare_options,
    "break_even": break_even,
    "decide": decide,
    "cost_per_million_tokens": cost_per_million_tokens,
    "job_cost": job_cost,
    "onprem_tco": onprem_tco,
    "storage_estimate": storage_estimate,
}


def run_calls(p: Plan, cat: Catalog) -> None:
    for call in p.calls:
        func = TOOL_FUNCS[call.tool]
        try:
            kwargs = dict(call.inputs)
            if call.tool != "decide":
                kwargs["catalog"] = cat
            call.result = func(**kwargs)
        except AdvisorError as exc:
            call.error = str(exc)
