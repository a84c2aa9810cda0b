"""Which calculators a WorkloadSpec calls, with which inputs, and what it must ask or assume.

The rules are deterministic. Missing slots become stated assumptions (bf16, an H100, 70%
utilization) except the model size, which is never guessed: a clarifying question is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor import understand
from advisor.errors import AdvisorError
from advisor.route import WorkloadSpec
from advisor.tools.availability import match_cloud_errors
from advisor.tools.catalog import Catalog
from advisor.tools.diagnose import match_signatures
from advisor.tools.local import is_apple
from advisor.tools.prices import accelerator_family
from advisor.tools.published import runs_named_in
from advisor.tools.quant import unsupported_on
from advisor.tools.registry import CALCULATORS
from advisor.tools.result import ToolResult

NEEDS_MODEL = {"size", "train", "serve"}
# Kinds answered from the guides alone: never a clarifying question, never a made-up model.
GUIDANCE_KINDS = {"explain", "availability"}
TRAINING_WORKLOADS = {"lora", "qlora", "full_finetune"}
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
        if not inst.prices:  # a retired size: nothing to rent
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


def hardware_args(spec: WorkloadSpec) -> dict[str, Any]:
    """The owned-hardware slots of ``spec`` as run_on_hardware arguments."""
    args: dict[str, Any] = {}
    for key in (
        "accelerator",
        "num_accelerators",
        "device_memory_gb",
        "system_ram_gb",
        "unified_memory_gb",
        "ram_kind",
        "ram_channels",
        "ram_mt_s",
    ):
        value = getattr(spec, key)
        if value is not None:
            args[key] = value
    if spec.cpu_only:
        args["cpu_only"] = True
    return args


HF_ENGINES = {"transformers", "tgi", "vllm", "sglang", "fastchat", "h2ogpt", "gpt-fast"}
# Engines people run on their own hardware; their users download a quantized file by default,
# so a fit question naming one is judged in it.
LOCAL_ENGINES = understand.LOCAL_ENGINE_NAMES | {"mlx"}
# Without a named precision, what people run on their own hardware: the engine's usual format.
LOCAL_DEFAULT_FORMAT = {
    None: "q4_k_m",
    "llama.cpp": "q4_k_m",
    "ollama": "q4_k_m",
    "koboldcpp": "q4_k_m",
    "lm studio": "q4_k_m",
    "jan": "q4_k_m",
    "ggml": "q4_0",  # ggml-era files were mostly q4_0
    "exllama": "gptq",
    "mlx": "int4",
}
MEMORY_TROUBLE_RE = re.compile(
    r"\b(?:oom|out of memory|memory|vram|ram|load\w*|allocat\w*|\d+ ?gb)\b"
)
SIZING_RE = re.compile(
    r"how much (?:gpu |video )?(?:memory|vram|ram|hbm)|memory (?:requirements?|needed|footprint)"
    r"|vram (?:needed|required|requirements?)|how many (?:gpus?|cards?|[ahlb]\d{2,3}s?)"
)


# "Will the H100 be sufficient?", "is one A100 enough?": a yes or no about that card, even
# when the question also asks how much memory to plan for.
YES_NO_RE = re.compile(
    r"\b(?:will|would|is|are|can|could|does|do)\b[^.?!]{0,40}?"
    r"\b(?:sufficient|enough|suffice|be able to (?:run|fit|hold))\b"
)


def default_format(spec: WorkloadSpec, local: bool, cat: Catalog | None = None) -> str:
    """The engine's usual 4-bit download on a person's own machine; else bf16, or fp16 on
    GPUs without bf16 (before Ampere: T4, V100, P40)."""
    if local and spec.engine in LOCAL_DEFAULT_FORMAT:
        return LOCAL_DEFAULT_FORMAT[spec.engine]
    if cat is not None and spec.model:
        published = cat.model(spec.model).published_dtype
        acc = cat.accelerator(spec.accelerator) if spec.accelerator else None
        if published is not None and (acc is None or unsupported_on(acc, published) is None):
            # DeepSeek-V3 is released in FP8, gpt-oss in MXFP4; on a GPU that cannot compute
            # the format (FP8 on an A100) people run the 16-bit conversion
            return published
    if cat is not None and spec.accelerator:
        acc = cat.accelerator(spec.accelerator)
        if acc.kind == "gpu" and acc.bf16_tflops is None and acc.fp16_tflops is not None:
            return "fp16"
    return "bf16"


BATCH_CONTEXT_TOKENS = 2048  # per sequence in a batch, when the question gives no context
_LOCAL_DEVICE = re.compile(r"geforce|\brtx\b|radeon|quadro|titan|\barc\b|apple|jetson", re.I)


OUTPUT_TOKENS_PER_REQUEST = 250  # compare_options' default answer length
# Questions about storage, not GPU memory: checkpoint and dataset sizes, disks, egress.
STORAGE_RE = re.compile(
    r"\b(?:storage|disk space|how much disk|(?:ssd|nvme|disk)s? (?:do i|will i|would i) need|"
    r"checkpoints? (?:size|sizes|storage|take up)|size of (?:the |a |each )?checkpoints?|"
    r"egress)\b",
    re.I,
)
# The cards people buy for their own machine, by memory tier (12, 16, 24, 32, 48 GB).
LOCAL_CARD_LADDER = (
    "rtx-3060",
    "rtx-4060-ti-16gb",
    "rtx-3090",
    "rtx-4090",
    "rtx-5090",
    "rtx-a6000",
)


def _local_setup(spec: WorkloadSpec, cat: Catalog) -> bool:
    """Hardware a person owns (a desktop card, a Mac, a CPU, RAM to offload to)."""
    if spec.device_memory_gb or spec.unified_memory_gb or spec.system_ram_gb or spec.cpu_only:
        return True
    if spec.owned:
        return True  # "my V100", "a single A100": their card, whatever its class
    if spec.engine in LOCAL_ENGINES:
        return spec.owns_hardware
    if spec.accelerator:
        acc = cat.accelerator(spec.accelerator)
        return bool(_LOCAL_DEVICE.search(f"{acc.vendor} {acc.name}"))
    return False


def _training_call(
    model: str | float,
    method: str,
    num_gpus: int,
    *,
    accelerator: str | None = None,
    device_memory_gb: float | None = None,
    seq_len: int | None = None,
    zero_stage: int | None = None,
    offload_optimizer: bool | None = None,
    dtype: str | None = None,
) -> ToolCall:
    """training_memory with checkpointing on, and ZeRO-3 for a full fine-tune on several GPUs."""
    args: dict[str, Any] = {
        "model": model,
        "method": method,
        "num_gpus": num_gpus,
        "activation_checkpointing": True,
    }
    if accelerator:
        args["accelerator"] = accelerator
    if device_memory_gb is not None:
        args["device_memory_gb"] = device_memory_gb
    if seq_len:
        args["seq_len"] = seq_len
    if num_gpus > 1 and method == "full":
        args["zero_stage"] = 3
    if zero_stage is not None:
        args["zero_stage"] = zero_stage  # as they configured it
    if offload_optimizer and method == "full":
        args["offload_optimizer"] = True
    if method == "lora" and dtype == "int8":
        args["lora_base"] = "int8"  # "train the LoRA in 8-bit": the base loaded in 8 bits
    return ToolCall("training_memory", args)


def plan_situation(question: str, spec: WorkloadSpec, cat: Catalog, p: Plan) -> bool:
    """Plan from the kind of question and the user's situation; False = use the intents."""
    kind, model = spec.kind, _model_ref(spec)
    training = spec.workload in TRAINING_WORKLOADS or spec.method is not None
    heads = HEADS_ERROR_RE.search(question)
    if heads:
        # vLLM: "Total number of attention heads (40) must be divisible by tensor parallel
        # size (6)": which sizes work on their GPUs
        n = spec.num_accelerators or int(heads.group(2))
        p.calls.append(
            ToolCall("tensor_parallel_options", {"attention_heads": int(heads.group(1)), "gpus": n})
        )
        return True
    stuck = model is None and not training
    if stuck and match_cloud_errors(question, spec.provider):
        # a GPU that will not start: which wall it hit (offering, quota, capacity)
        args: dict[str, Any] = {"error": question}
        if spec.provider:
            args["provider"] = spec.provider
        p.calls.append(ToolCall("diagnose_availability", args))
        return True
    if match_signatures(question):
        # a pasted error or log line ("NET/Socket", "no kernel image"): its meaning and fix,
        # then the calculators for the rest of the question
        p.calls.append(ToolCall("diagnose_error", {"error": question}))
        if model is None or kind in GUIDANCE_KINDS:
            return True
    if (
        model is None
        and not training
        and spec.options
        and len(spec.options) >= 2
        and len({n for _, n in spec.options}) == 1
        and kind in ("choose", "explain", "speed", None)
    ):
        # "the difference between an A100 and an H100?": datasheet ratios by what bounds the
        # work (bandwidth for one stream, compute for prefill and training)
        p.calls.append(
            ToolCall("compare_accelerators", {"accelerators": [k for k, _ in spec.options]})
        )
        return True
    if (
        model is None
        and not training
        and kind in ("cost", "choose")
        and (spec.accelerator or spec.instance or spec.provider)
        and (kind == "cost" or "cheap" in question.lower())
        and not spec.utilization
        and "tco" not in spec.intents
    ):
        # "how much does an A100 cost per hour on GCP?": the rental prices, cheapest first
        args: dict[str, Any] = {}
        if spec.instance:
            args.update(instance=spec.instance, provider=spec.provider)
        else:
            if spec.accelerator:
                # "an A100" is any A100 (40 or 80 GB, SXM or PCIe); "A100 80GB" is that one
                said_memory = re.search(r"\b\d+\s*g(?:b|ib)?\b", question.lower())
                args["accelerator"] = (
                    spec.accelerator if said_memory else accelerator_family(spec.accelerator)
                )
            if spec.provider:
                args["provider"] = spec.provider
            elif spec.providers:
                args["providers"] = spec.providers
            if spec.num_accelerators and spec.num_accelerators > 1:
                args["num_accelerators"] = spec.num_accelerators
        if spec.region:
            args["region"] = spec.region
        elif spec.geography and not spec.instance:
            args["geography"] = spec.geography
        if spec.pricing:
            args["pricing"] = spec.pricing
        p.calls.append(ToolCall("gpu_prices", args))
        return True
    if STORAGE_RE.search(question) and (model is not None or spec.tokens):
        # "how much storage for the checkpoints of a 70B training run?": sizes, not GPU memory
        args: dict[str, Any] = {}
        if model is not None:
            args["model"] = model
        if spec.tokens:
            args["dataset_tokens"] = spec.tokens
        if spec.provider in ("aws", "azure", "gcp"):
            args["provider"] = spec.provider
        p.calls.append(ToolCall("storage_estimate", args))
        return True
    if kind in GUIDANCE_KINDS and (model is None or understand.asks_about_fabric(question)):
        return True  # answered from the guides; no calculator needs the user's numbers
    if kind in GUIDANCE_KINDS:
        return False  # "what is the KV cache per token of Qwen2.5 7B?": the intents' calculators
    if (
        kind == "troubleshoot"
        and model is None
        and spec.owns_hardware
        and not training
        and MEMORY_TROUBLE_RE.search(question.lower())
    ):
        # "models above ~47 GB fail to load on my 64 GB Mac": what the hardware can hold
        p.calls.append(
            ToolCall(
                "models_for_hardware", {"dtype": spec.dtype or "q4_k_m", **hardware_args(spec)}
            )
        )
        return True
    if kind == "troubleshoot" and (model is None or not spec.owns_hardware):
        return True
    local = _local_setup(spec, cat)
    weighing = {"tco", "decide"} & set(spec.intents)  # "build on-prem or rent?": not a fit
    if (
        model is None
        and kind in ("fit", "choose")
        and (local or spec.accelerator)
        and not training
        and not weighing
    ):
        # "what can I run on my 3090?", "will it work on a P40?": the catalogued models that
        # fit, largest first
        which: dict[str, Any] = {
            "dtype": spec.dtype or default_format(spec, local, cat),
            **hardware_args(spec),
        }
        if spec.context_tokens:
            which["context_tokens"] = spec.context_tokens
        p.calls.append(ToolCall("models_for_hardware", which))
        return True
    if model is not None and spec.buying_local and not spec.options and not training:
        # "which GPU should I buy to run a 30B model locally?": the same model on the card
        # tiers people buy, smallest first; the verdict names the smallest that holds it
        dtype = spec.dtype or default_format(spec, True, cat)
        for acc in LOCAL_CARD_LADDER:
            args: dict[str, Any] = {"model": model, "dtype": dtype, "accelerator": acc}
            if spec.context_tokens:
                args["context_tokens"] = spec.context_tokens
            if spec.system_ram_gb:
                args["system_ram_gb"] = spec.system_ram_gb
            p.calls.append(ToolCall("run_on_hardware", args))
        # two 24 GB cards, the usual way past one card's memory
        p.calls.append(
            ToolCall("run_on_hardware", {**args, "accelerator": "rtx-3090", "num_accelerators": 2})
        )
        if spec.dtype is None:
            p.assumptions.append(
                f"No precision given: assumed {dtype.upper()}, the usual download."
            )
        p.assumptions.append("Card prices are not catalogued: compare them yourself.")
        return True
    if kind == "choose" and model is not None and spec.options:
        return _plan_options(spec, model, training, cat, p)
    capacity_training = kind == "capacity" and training and not spec.num_accelerators
    if (
        model is None
        or kind not in ("fit", "speed", "troubleshoot", None)
        and not (capacity_training)
    ):
        return False
    if training and spec.tokens and spec.deadline_days and kind in ("fit", None):
        return False  # "can I train it in a week on 8 A100s?": the duration, by the intents
    if training:
        if not (spec.accelerator or spec.device_memory_gb):
            return False
        method = spec.method or (
            "qlora" if spec.workload == "qlora" else "lora" if spec.workload == "lora" else "full"
        )
        call = _training_call(
            model,
            method,
            spec.num_accelerators or 1,
            accelerator=spec.accelerator,
            device_memory_gb=None if spec.accelerator else spec.device_memory_gb,
            seq_len=spec.context_tokens,
            zero_stage=spec.zero_stage,
            offload_optimizer=spec.offload_optimizer,
            dtype=spec.dtype,
        )
        p.assumptions.append("Activation checkpointing on; micro-batch 1.")
        p.calls.append(call)
        n = spec.num_accelerators or 1
        if kind == "troubleshoot" and method == "full" and n > 1 and spec.zero_stage is None:
            # an OOM on several GPUs with the stage unsaid: what stage 2 would need, since
            # the estimate above assumes stage 3
            p.calls.append(ToolCall("training_memory", {**call.inputs, "zero_stage": 2}))
        return True
    # a reported speed ("around 9 t/s") means they run it: the speed of their one stream
    local = _local_setup(spec, cat) or (kind == "speed" and spec.observed_tokens_per_s is not None)
    if not local and not (kind == "speed" and not spec.owns_hardware and not spec.intents):
        # datacenter GPUs (or none named): the serving-memory and serving calculators, by
        # the intents below; a fit question on one named card is sized for that card
        yes_no = bool(YES_NO_RE.search(question.lower())) or not SIZING_RE.search(question.lower())
        if kind in ("fit", "troubleshoot") and spec.accelerator and not spec.num_accelerators:
            spec.num_accelerators = 1 if yes_no else None  # "does it fit on an H100?"
        if kind == "speed" and "serve" not in spec.intents:
            spec.intents = [*spec.intents, "serve"]
        return False
    # A fit question about a discrete GPU is judged in 16-bit, as published, and the formats
    # that fit follow; Macs and CPU-only machines run GGUF files (llama.cpp, Ollama, MLX).
    native = (
        kind in ("fit", "troubleshoot")
        and spec.engine not in LOCAL_ENGINES
        and not (
            spec.unified_memory_gb
            or spec.cpu_only
            or (spec.accelerator and is_apple(cat.accelerator(spec.accelerator)))
        )
    )
    dtype = spec.dtype or default_format(spec, local and not native, cat)
    args = {"model": model, "dtype": dtype, **hardware_args(spec)}
    as_published = dtype in ("bf16", "fp16") or bool(
        spec.model and cat.model(spec.model).published_dtype == dtype
    )
    if spec.dtype is None and as_published:
        p.assumptions.append(
            f"No precision given: judged in {dtype.upper()}, as the weights are published; "
            "the formats that fit follow."
        )
    elif spec.dtype is None:
        p.assumptions.append(
            f"No precision given: assumed {dtype.upper()}"
            + (", the usual download for llama.cpp and Ollama." if dtype == "q4_k_m" else ".")
        )
    if not spec.owns_hardware:
        args["accelerator"] = DEFAULT_ACCELERATOR
        p.assumptions.append("Speed figured on one NVIDIA H100 SXM (no hardware given).")
    if spec.kv_dtype:
        args["kv_dtype"] = spec.kv_dtype
    if spec.context_tokens:
        args["context_tokens"] = spec.context_tokens
    if spec.observed_tokens_per_s is not None and spec.system_ram_gb is None:
        args["assume_offload"] = True  # it runs for them, so what does not fit sits in RAM
    if spec.batch_size and spec.batch_size > 1:
        args["batch_size"] = spec.batch_size  # their batch: the total speed of its streams
        args.pop("assume_offload", None)  # batched serving keeps the model on the GPUs
        if not spec.context_tokens:
            args["context_tokens"] = BATCH_CONTEXT_TOKENS
            p.assumptions.append(
                f"Each of the {spec.batch_size} sequences holds {BATCH_CONTEXT_TOKENS:,} tokens "
                "of prompt and output (none given)."
            )
    elif spec.observed_tokens_per_s is not None:
        args["observed_tokens_per_s"] = spec.observed_tokens_per_s  # a batch total, or one stream
    if spec.engine in HF_ENGINES:
        args["formats"] = "hf"  # the quantizations these engines load: int8, AWQ/GPTQ, NF4
    if spec.engine == "transformers":
        args["eager_engine"] = True  # generate() pays Python overhead on every token
    if spec.engine in understand.GPU_ONLY_ENGINES:
        args["offload"] = False  # TGI, ExLlama: the model lives on the GPUs
    elif spec.engine in understand.OFFLOAD_SETTINGS:
        args["offload_setting"] = understand.OFFLOAD_SETTINGS[spec.engine]
    if spec.memory_fraction is not None:
        args["memory_fraction"] = spec.memory_fraction
    p.calls.append(ToolCall("run_on_hardware", args))
    return True


def _plan_options(
    spec: WorkloadSpec, model: str | float, training: bool, cat: Catalog, p: Plan
) -> bool:
    """'2x RTX 3090 vs one RTX 4090 for X': the same calculator on each option."""
    assert spec.options
    local = _local_setup(spec, cat) or any(
        _LOCAL_DEVICE.search(cat.accelerator(a).name) for a, _ in spec.options
    )
    dtype = spec.dtype or default_format(spec, local, cat)
    for acc, count in spec.options:
        if training:
            method = spec.method or ("qlora" if spec.workload == "qlora" else "lora")
            p.calls.append(_training_call(model, method, count, accelerator=acc))
        else:
            args: dict[str, Any] = {
                "model": model,
                "dtype": dtype,
                "accelerator": acc,
                "num_accelerators": count,
            }
            if spec.context_tokens:
                args["context_tokens"] = spec.context_tokens
            if spec.system_ram_gb:
                args["system_ram_gb"] = spec.system_ram_gb
            p.calls.append(ToolCall("run_on_hardware", args))
    if spec.dtype is None and not training:
        p.assumptions.append(f"No precision given: assumed {dtype.upper()}.")
    if training and spec.method is None:
        p.assumptions.append("LoRA fine-tuning (rank 16) with activation checkpointing.")
    return True


FINE_TUNE_TOKENS = 100e6  # a round amount to scale from: e.g. 50,000 examples of 2,000 tokens


def assumed_training_tokens(
    spec: WorkloadSpec, model: str | float, cat: Catalog
) -> tuple[float, str]:
    """Tokens to time a training job by when the question gives none, and the sentence saying so.

    Pretraining: 20 tokens per parameter (the compute-optimal ratio of Hoffmann et al., 2022).
    Fine-tuning: 100M tokens; the time scales linearly with the real count.
    """
    if spec.workload == "pretraining":
        params = cat.model(model).params_b if isinstance(model, str) else float(model)
        tokens = 20 * params * 1e9
        return tokens, (
            f"No token count given: pretraining on {tokens:.3g} tokens, 20 per parameter (the "
            "compute-optimal ratio, Hoffmann et al. 2022); time scales linearly with tokens."
        )
    return FINE_TUNE_TOKENS, (
        "No dataset size given: timed for 100M training tokens (e.g. 50,000 examples of 2,000 "
        "tokens, one epoch); time scales linearly with tokens x epochs. LoRA and QLoRA skip the "
        "weight gradients, so they need about 2/3 of this compute."
    )


HEADS_ERROR_RE = re.compile(
    r"attention heads \((\d{1,4})\) must be divisible by tensor parallel size \((\d{1,4})\)",
    re.I,
)
TRAINING_WORDS_RE = re.compile(r"\b(?:train\w*|pre-?train\w*|fine-?tun\w*|finetun\w*)|训练|微调")


def _published_call(question: str, spec: WorkloadSpec) -> ToolCall | None:
    """What the developers published about training the model named, for a question about
    training time or cost ("how long did it take to train Llama 2 70B?")."""
    if spec.kind not in ("duration", "cost", None) or not TRAINING_WORDS_RE.search(
        question.lower()
    ):
        return None
    if spec.workload in ("lora", "qlora") or spec.method in ("lora", "qlora"):
        return None  # adapting a model is not how it was pretrained
    runs = runs_named_in(question)
    if not runs:
        return None
    return ToolCall("published_training", {"model": runs[0].names[0]})


SIZED_TOOLS = ("run_on_hardware", "inference_memory", "training_memory")
KV_TOOLS = ("run_on_hardware", "inference_memory", "serving_estimate")


def plan(question: str, spec: WorkloadSpec, cat: Catalog) -> Plan:
    """The calculators for the question, and the same one for each other size it names."""
    p = _plan(question, spec, cat)
    released = cat.model(spec.model).published_dtype if spec.model else None
    if released and spec.dtype is None and spec.kv_dtype is None:
        # FP8 or MXFP4 weights as released; engines keep the KV cache in the model's 16-bit
        # activation type unless told otherwise (vLLM kv_cache_dtype="auto")
        for c in p.calls:
            if c.inputs.get("dtype") == released and c.tool in KV_TOOLS:
                c.inputs.setdefault("kv_dtype", "bf16")
    first = next((c for c in p.calls if c.tool in SIZED_TOOLS and "model" in c.inputs), None)
    if first is not None and spec.other_models:
        for other in spec.other_models:
            p.calls.append(ToolCall(first.tool, {**first.inputs, "model": other}))
    trained = next((c for c in p.calls if c.tool == "training_memory"), None)
    if trained is not None and spec.other_methods:
        # "the memory for full training and for LoRA?": each method named, same model and GPUs
        n = int(trained.inputs.get("num_gpus") or 1)
        for method in spec.other_methods:
            if method == trained.inputs.get("method"):
                continue
            zero = spec.zero_stage if spec.zero_stage is not None else (3 if n > 1 else 0)
            args = {**trained.inputs, "method": method, "zero_stage": zero}
            if method != "full":
                args["zero_stage"] = spec.zero_stage or 0
            p.calls.append(ToolCall("training_memory", args))
    return p


def _plan(question: str, spec: WorkloadSpec, cat: Catalog) -> Plan:
    p = Plan()
    p.assumptions += spec.notes or []
    published = _published_call(question, spec)
    if published is not None:
        p.calls.append(published)
    if plan_situation(question, spec, cat, p):
        return p
    intents = set(spec.intents)
    model = _model_ref(spec)
    if spec.kind in ("fit", "speed") and not intents & NEEDS_MODEL:
        intents.add("size")
    if (
        "size" in intents
        and (spec.workload in TRAINING_WORKLOADS or spec.method)
        and ("serve" not in intents)
    ):
        # "fine-tuning a 7B model needs 112 GB?": the memory of the training job
        intents = (intents - {"size"}) | {"train"}
    sizing = bool(SIZING_RE.search(question.lower()))
    if (
        model is None
        and intents & NEEDS_MODEL
        and "explain" not in intents
        and spec.kind not in GUIDANCE_KINDS | {"troubleshoot", "cost", "choose", "speed"}
        and (spec.kind != "fit" or sizing)
    ):
        p.clarification = (
            "Which model should I size for? Give a name (e.g. 'Llama 3.1 70B') or a size "
            "(e.g. 'a 13B model')."
        )
    acc = spec.accelerator
    dtype = spec.dtype or default_format(spec, False, cat)
    if model is not None and intents & NEEDS_MODEL and spec.dtype is None:
        released = cat.model(spec.model).published_dtype if spec.model else None
        if released == dtype:
            p.assumptions.append(
                f"Weights in {dtype}, as the developer released them (no precision given)."
            )
        elif released is not None and acc:
            p.assumptions.append(
                f"Weights in {dtype}: the {released.upper()} release needs {released.upper()} "
                f"compute that {cat.accelerator(acc).name} lacks, so the 16-bit conversion is "
                "sized (no precision given)."
            )
        else:
            p.assumptions.append(f"Weights in {dtype} (no precision given).")
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
    job_tokens = spec.tokens
    if model is not None and "train" in intents:
        tokens = spec.tokens
        if tokens is None and spec.kind in ("duration", "cost"):
            # "how long does it take?" with no dataset size: say what it takes for a stated
            # amount, which scales linearly, rather than ask
            tokens, why = assumed_training_tokens(spec, model, cat)
            p.assumptions.append(why)
            job_tokens = tokens
        if tokens:
            args = {
                "model": model,
                "tokens": tokens,
                "accelerator": acc or DEFAULT_ACCELERATOR,
            }
            if spec.num_accelerators:
                # "on my 8 A100s in a week?": the duration on their GPUs, against the deadline
                args["num_accelerators"] = spec.num_accelerators
            elif spec.deadline_days:
                args["deadline_days"] = spec.deadline_days
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
        if spec.concurrency or (spec.batch_size and spec.batch_size > 1):
            args["concurrency"] = spec.concurrency or spec.batch_size
        if spec.latency_s:
            args["ttft_slo_s"] = spec.latency_s
        if spec.context_tokens:
            args["prompt_tokens"] = spec.context_tokens
        if spec.num_accelerators:
            # "on 4 x H100", "--tensor-parallel-size=4": as many as said
            args["num_accelerators"] = spec.num_accelerators
        if not acc:
            p.assumptions.append("Served on NVIDIA H100 SXM (no accelerator given).")
        p.calls.append(ToolCall("serving_estimate", args))
    if model is not None and intents & {"cost", "compare"}:
        training = "train" in intents and job_tokens
        args = {
            "model": model,
            "workload": "training" if training else "inference",
            "dtype": dtype,
            "top": 5,
            "pricing": spec.pricing or "on_demand",
        }
        if training:
            args["tokens"] = job_tokens
        if spec.provider:
            args["providers"] = [spec.provider]
        if spec.region:
            args["region"] = spec.region
        elif spec.geography:
            args["geography"] = spec.geography
        if spec.tokens_per_s and not training:
            args["target_tokens_per_s"] = spec.tokens_per_s
        elif spec.requests_per_s and not training:
            # "1 million requests a day": that rate of average-length answers, ranked by the
            # monthly cost of serving it
            args["target_tokens_per_s"] = spec.requests_per_s * OUTPUT_TOKENS_PER_REQUEST
            p.assumptions.append(
                f"{OUTPUT_TOKENS_PER_REQUEST} output tokens per request, spread evenly over "
                "the day (peaks need more)."
            )
        if spec.options:
            args["accelerators"] = [k for k, _ in spec.options]  # "L4 or A10G?": those cards
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


# The calculators by name, from the one registry (advisor.tools.registry).
TOOL_FUNCS: dict[str, Callable[..., ToolResult]] = {n: c.func for n, c in CALCULATORS.items()}


def run_calls(p: Plan, cat: Catalog) -> None:
    for call in p.calls:
        func = TOOL_FUNCS[call.tool]
        try:
            kwargs = dict(call.inputs)
            if CALCULATORS[call.tool].takes_catalog:
                kwargs["catalog"] = cat
            call.result = func(**kwargs)
        except AdvisorError as exc:
            call.error = str(exc)
