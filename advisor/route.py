"""Deterministic routing: a question (plus history) -> WorkloadSpec slots and intents.

No model is involved. Names are matched against the catalogs the way people type them
("llama 3 70b", "8xH100", "p5", "L4s"); quantities by patterns ("2T tokens", "50 requests/s",
"p95 under 2 s", "in 3 weeks", "$50k"). A follow-up inherits the previous questions' slots
("what about on GCP?", "and at 4-bit?").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from advisor import understand
from advisor.errors import AdvisorError
from advisor.tools.catalog import Catalog, _norm
from advisor.tools.schema import Model
from advisor.understand import QuestionKind, Workload

Intent = Literal["size", "train", "serve", "cost", "compare", "tco", "decide", "explain"]
INTENT_ORDER: tuple[Intent, ...] = (
    "size",
    "train",
    "serve",
    "cost",
    "compare",
    "tco",
    "decide",
    "explain",
)


class WorkloadSpec(BaseModel):
    """Slots extracted from the conversation. None = not said."""

    model: str | None = Field(default=None, description="catalog model id")
    params_b: float | None = None
    tokens: float | None = None
    context_tokens: int | None = None
    dtype: str | None = None
    method: Literal["full", "lora", "qlora"] | None = None
    accelerator: str | None = Field(default=None, description="catalog accelerator id")
    num_accelerators: int | None = None
    provider: str | None = None
    instance: str | None = None
    region: str | None = None
    geography: Literal["us", "eu", "apac"] | None = None
    requests_per_s: float | None = None
    tokens_per_s: float | None = None
    concurrency: int | None = None
    batch_size: int | None = Field(
        default=None, description="sequences decoded together, as stated (batch size 4)"
    )
    latency_s: float | None = None
    deadline_days: float | None = None
    budget_usd: float | None = None
    utilization: float | None = None
    years: float | None = None
    pricing: Literal["on_demand", "spot", "commit_1y", "commit_3y"] | None = None
    # The situation: the hardware the user has, the format, the workload and the engine.
    kind: QuestionKind | None = Field(default=None, description="the kind of question")
    device_memory_gb: float | None = Field(default=None, description="per device, as stated")
    zero_stage: int | None = Field(default=None, description="DeepSpeed ZeRO stage named")
    offload_optimizer: bool | None = Field(
        default=None, description="optimizer states offloaded to CPU (DeepSpeed offload_optimizer)"
    )
    memory_fraction: float | None = Field(
        default=None,
        description="share of each GPU the engine may use (vLLM --gpu-memory-utilization)",
    )
    system_ram_gb: float | None = None
    unified_memory_gb: float | None = Field(default=None, description="Apple unified memory")
    cpu_only: bool | None = None
    ram_kind: str | None = None
    ram_channels: int | None = None
    ram_mt_s: int | None = None
    kv_dtype: str | None = None
    workload: Workload | None = None
    engine: str | None = None
    observed_tokens_per_s: float | None = Field(
        default=None, description="a speed the user reports seeing (for 'is N tok/s normal?')"
    )
    notes: list[str] | None = Field(default=None, description="readings stated as assumptions")
    owned: bool | None = Field(default=None, description="hardware the user has ('my 3090')")
    other_models: list[str | float] | None = Field(
        default=None,
        description="other sizes named beside the model ('7B and 70B'): ids or billions",
    )
    options: list[tuple[str, int]] | None = Field(
        default=None, description="accelerators compared ('2x 3090 vs a 4090'): (id, count)"
    )
    providers: list[str] | None = Field(
        default=None, description="several providers named and compared ('Lambda or AWS')"
    )
    buying_local: bool | None = Field(
        default=None, description="a card to buy for one's own machine ('which GPU to buy')"
    )
    reports_slow: bool | None = Field(
        default=None, description="the user says it runs slowly ('too slow', 'is it normal?')"
    )
    context_needed: bool | None = Field(
        default=None, description="the context is a requirement ('to support 128K context')"
    )
    other_methods: list[Literal["full", "lora", "qlora"]] | None = Field(
        default=None, description="other training methods asked about ('full and LoRA')"
    )
    intents: list[Intent] = Field(default_factory=list)

    @property
    def owns_hardware(self) -> bool:
        """The user described hardware to run on (a device, memory, a Mac or a CPU)."""
        return bool(
            self.accelerator
            or self.device_memory_gb
            or self.unified_memory_gb
            or self.system_ram_gb
            or self.cpu_only
        )

    def merged(self, newer: WorkloadSpec) -> WorkloadSpec:
        """This spec updated by a follow-up: the newer slots win; intents carry over if none."""
        data = self.model_dump()
        for key, value in newer.model_dump().items():
            if key == "intents":
                continue
            if value is not None:
                data[key] = value
        if newer.model is not None:
            data["params_b"] = newer.params_b
        if newer.params_b is not None and newer.model is None:
            data["model"] = None
        if newer.provider is not None and newer.instance is None:
            data["instance"] = None
        if newer.accelerator is not None and newer.accelerator != self.accelerator:
            data["num_accelerators"] = newer.num_accelerators
            data["device_memory_gb"] = newer.device_memory_gb
        data["intents"] = newer.intents or self.intents
        return WorkloadSpec(**data)


TOKENS_PER_EXAMPLE = 1_000  # a fine-tuning example (prompt + answer), when only counts are said
_VARIANT_WORDS = frozenset({"ti", "super", "xt", "xtx"})  # a different product from the bare name
_LONG_DIGITS = re.compile(r"(?:\d[.,]?){13,}")  # also "1,1,1,..." and "1.1.1...."
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.\-_][A-Za-z0-9]+)*\+?")
_MULT = {
    "": 1.0,
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "mn": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
_NUM = r"(\d+(?:[.,]\d+)*)"
_SCALE = r"\s*(k|thousand|m|mn|million|b|bn|billion|t|trillion)?\b"

INTENT_WORDS: dict[Intent, tuple[str, ...]] = {
    "size": (
        "memory",
        "vram",
        "fit",
        "fits",
        "how many gpu",
        "how many h100",
        "how many a100",
        "how many l4",
        "how many accelerator",
        "gb of",
        "kv cache",
        "load",
        "run ",
    ),
    "train": (
        "train",
        "pretrain",
        "pre-train",
        "fine-tune",
        "finetune",
        "fine tune",
        "lora",
        "qlora",
        "gpu-hours",
        "gpu hours",
        "epochs",
    ),
    "serve": (
        "serve",
        "serving",
        "inference",
        "requests/s",
        "requests per second",
        "rps",
        "qps",
        "latency",
        "throughput",
        "users",
        "tokens/s",
        "tokens per second",
        "deploy",
        "host",
    ),
    "cost": (
        "cost",
        "price",
        "pricing",
        "$",
        "budget",
        "cheap",
        "expensive",
        "pay",
        "per million tokens",
        "bill",
        "spend",
    ),
    "compare": (
        "compare",
        "cheapest",
        "which cloud",
        "which gpu",
        "which instance",
        "best option",
        "options",
        "alternatives",
        "where should",
        "versus",
    ),
    "tco": (
        "buy",
        "bought",
        "on-prem",
        "on prem",
        "onprem",
        "own hardware",
        "tco",
        "rent",
        "break-even",
        "break even",
        "purchase",
        "colocation",
        "data center",
        "datacenter",
    ),
    "decide": (
        "should we",
        "should i",
        "cloud or on",
        "decide",
        "recommend",
        "strategy",
        "make sense",
    ),
    "explain": (
        "formula",
        "how to calculate",
        "how do i calculate",
        "how is",
        "rule of thumb",
        "what is",
        "what are",
        "why",
        "explain",
        "how does",
        "difference",
        "vs",
        "when to",
        "meaning",
        "pros and cons",
    ),
}
_INTENT_RE = {
    w: re.compile(r"(?<![a-z0-9])" + re.escape(w.strip()) + (r"\b" if w.endswith(" ") else ""))
    for words in INTENT_WORDS.values()
    for w in words
}
_PROVIDERS = {
    "aws": "aws",
    "amazon": "aws",
    "ec2": "aws",
    "eks": "aws",
    "sagemaker": "aws",
    "gcloud": "gcp",
    "gce": "gcp",
    "gke": "gcp",
    "vertex": "gcp",
    "aks": "azure",
    "azure": "azure",
    "microsoft": "azure",
    "gcp": "gcp",
    "google": "gcp",
    r"(?<!aws )(?<!amazon )lambda(?: labs| cloud)?|lambda\.ai": "lambda",  # not AWS Lambda
    "coreweave": "coreweave",
    "nebius": "nebius",
    # a provider's own vocabulary names it: quota names, VM series, instance-type shapes
    "gpus_all_regions|gpus[- ]all[- ]regions|compute engine|cloud tpu|a2-highgpu|a3-highgpu": "gcp",
    r"n[cdv][a-z0-9_]*(?: v\d)? series|nc\d+\w*_v\d|nd\d+\w*_v\d|azureml|standard_n[cdv]\w*|"
    r"n-series|regional (?:v?cpu|cpu) cores?|regional vcpus": "azure",
    r"ml\.[a-z]+\d[a-z]*\.\d*x?large|[a-z]+\d[a-z]*\.\d*x?large|resourcelimitexceeded|"
    r"node ?groups?|eksctl|g and vt|running on-demand|on-demand p instances|aws lambda": "aws",
}
_GEO = {
    "sydney": "apac",
    "australia": "apac",
    "apac": "apac",
    "asia": "apac",
    "singapore": "apac",
    "tokyo": "apac",
    "japan": "apac",
    "india": "apac",
    "mumbai": "apac",
    "europe": "eu",
    "eu": "eu",
    "frankfurt": "eu",
    "london": "eu",
    "ireland": "eu",
    "germany": "eu",
    "paris": "eu",
    "stockholm": "eu",
    "netherlands": "eu",
    "us": "us",
    "usa": "us",
    "virginia": "us",
    "oregon": "us",
    "iowa": "us",
}
_WORDNUM = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "eight": 8,
    "ten": 10,
    "sixteen": 16,
    "a": 1,
    "an": 1,
    "single": 1,
}


_EPOCHS_RE = re.compile(
    r"\b(?:num_train_epochs|num_epochs|epochs)\s*[:=]\s*['\"]?(\d+(?:\.\d+)?)|"
    r"\b(\d+(?:\.\d+)?)\s*epochs?\b|(\d+)\s*个?\s*epoch",
    re.I,
)


def _epochs(text: str) -> float | None:
    """Epochs the user states ("num_train_epochs: 3", "--num_epochs=10", "5 epochs")."""
    if m := _EPOCHS_RE.search(text):
        value = float(next(g for g in m.groups() if g))
        return value if 0 < value <= 1000 else None
    return None


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _scaled(value: str, scale: str | None) -> float:
    return _num(value) * _MULT[(scale or "").lower()]


class Router:
    """Extracts a WorkloadSpec from text, using the catalogs for names."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._models = self._index((m.id, [m.id, m.name, *m.aliases]) for m in catalog.models)
        self._accs = self._index(
            (a.id, [a.id, a.name, *a.aliases]) for a in catalog.accelerators if a.kind != "cpu"
        )
        self._insts = self._index(
            (f"{i.provider}/{i.name}", [i.name, *i.aliases]) for i in catalog.instances
        )
        # CPUs and boards the catalog knows (Raspberry Pi 5, Xeon 8480+): read only when no
        # GPU is named, as the machine a model runs on from RAM
        self._cpus = self._index(
            (a.id, [a.id, a.name, *a.aliases]) for a in catalog.accelerators if a.kind == "cpu"
        )
        self._regions = {r.id.lower(): r for r in catalog.regions}
        # VM series by name ("NCv3", "NC A100 v4", "NCasT4_v3"): its provider and GPU
        fams: dict[str, set[tuple[str, str]]] = {}
        for i in catalog.instances:
            # Azure names its series as words ("NCv3 cores", "the NC series"); elsewhere a
            # family is a card's name (Lambda's "a6000") or an instance prefix (read above)
            if i.accelerator and i.family and i.provider == "azure":
                fams.setdefault(_norm(i.family), set()).add((i.provider, i.accelerator))
        self._families_vm = {k: next(iter(v)) for k, v in fams.items() if len(v) == 1}
        names = [n for m in catalog.models for n in (m.id, m.name, *m.aliases)]
        names += [n for a in catalog.accelerators for n in (a.id, a.name, *a.aliases)]
        # (normalised family, model) for "llama v2 70b", "Llama-2-70B-GPTQ", "qwen2.5 14b"
        self._families = sorted(
            ((_norm(m.family), m) for m in catalog.models if m.kind == "llm"),
            key=lambda fm: -len(fm[0]),
        )
        self._name_words = {
            w for n in names for w in re.split(r"[^a-z0-9]+", n.lower()) if w
        } - understand.GENERIC_NAME_WORDS

    def topic_query(self, question: str, spec: WorkloadSpec) -> str:
        """The retrieval query for ``question``: for computed answers, its topic, not its names.

        "can I run llama 2 70b on two 3090s at q4_k_m?" retrieves on "can I run on at" plus the
        topic of a fit question about inference (GPU memory, quantization, offload).
        """
        training = spec.workload in ("lora", "qlora", "full_finetune", "pretraining")
        if understand.asks_about_fabric(question):
            # "do I need InfiniBand for 2 nodes of 8 H100s?": about the fabric, not the memory
            return question + ". " + understand.FABRIC_TOPIC
        kind = spec.kind or ""
        if kind == "troubleshoot" and not understand.reports_oom(question):
            # the symptom picks the topic: slowness is a speed question; another error
            # keeps its own words (an FP8 kernel error on a 3090 is about the 3090 and FP8)
            if not understand.reports_slow(question) and not re.search(r"\bslow", question, re.I):
                return question
            kind = "speed"
        key = (kind, "training" if training else "inference")
        topic = understand.TOPIC_TERMS.get(key)
        if topic is None or not (spec.model or spec.params_b or spec.owns_hardware):
            return question
        words = [
            w
            for w in re.findall(r"[A-Za-z0-9_.+/-]+|[^A-Za-z0-9\s]", question)
            if _FORMAT_WORD.match(w)  # "FP8", "Q4_K_M" stay: the format is the topic too
            or (w.lower() not in self._name_words and not re.search(r"\d", w))
        ]
        apple = bool(spec.unified_memory_gb) or bool(
            spec.accelerator and spec.accelerator.startswith("apple-")
        )
        consumer = spec.owns_hardware and (
            spec.accelerator is None
            or bool(
                re.search(
                    r"geforce|\brtx\b|radeon|titan",
                    self.catalog.accelerator(spec.accelerator).name,
                    re.I,
                )
            )
        )
        where = understand.setting(spec.engine, apple, training, consumer)
        if where is not None:
            topic += "; " + understand.SETTING_TERMS[where]
        if (
            not training
            and (spec.num_accelerators or 1) > 1
            and spec.kind in ("speed", "troubleshoot")
            and understand.reports_slow(question)
        ):
            # "8 GPUs answer slower than one": how the model is split is the likely cause
            topic += "; " + understand.MULTI_GPU_SLOW_TERMS
        return " ".join(words) + ". " + topic

    @staticmethod
    def _index(rows: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, names in rows:
            for name in names:
                n = _norm(name)
                if len(n) >= 2:
                    out.setdefault(n, key)
        return out

    def _match(
        self, tokens: list[str], index: dict[str, str], max_n: int = 6
    ) -> tuple[str, int, int] | None:
        """Longest n-gram of ``tokens`` found in ``index``: (key, start, end)."""
        best: tuple[str, int, int] | None = None
        for n in range(min(max_n, len(tokens)), 0, -1):
            for start in range(0, len(tokens) - n + 1):
                gram = _norm("".join(tokens[start : start + n]))
                key = index.get(gram)
                if key is None and gram.endswith("s"):
                    key = index.get(gram[:-1])  # "L4s", "H100s"
                if key is not None and len(gram) >= 2 and best is None:
                    best = (key, start, start + n)
            if best:
                return best
        return None

    def _all_matches(
        self, tokens: list[str], index: dict[str, str], max_n: int = 5
    ) -> list[tuple[str, int, int]]:
        """Every name in ``tokens``, longest first, without overlaps, in reading order."""
        taken: set[int] = set()
        found: list[tuple[str, int, int]] = []
        for n in range(min(max_n, len(tokens)), 0, -1):
            for start in range(0, len(tokens) - n + 1):
                span = set(range(start, start + n))
                if span & taken:
                    continue
                gram = _norm("".join(tokens[start : start + n]))
                key = index.get(gram) or (index.get(gram[:-1]) if gram.endswith("s") else None)
                end = start + n
                after = tokens[end].lower() if end < len(tokens) else ""
                if after in _VARIANT_WORDS and end not in taken and len(gram) >= 2:
                    # "4060 Ti" is not a 4060: a product sold in several memory sizes whose
                    # bare name is no key (RTX 4060 Ti 8GB / 16GB) takes the larger one
                    longer = self._variant_keys(index, gram + after)
                    if longer:
                        key, end, span = longer, end + 1, span | {end}
                if key is not None and len(gram) >= 2:
                    found.append((key, start, end))
                    taken |= span
        return sorted(found, key=lambda f: f[1])

    def _variant_keys(self, index: dict[str, str], prefix: str) -> str | None:
        """The id of the largest-memory product whose name extends ``prefix`` by a memory
        size ("4060ti" -> "4060ti16gb"), for accelerator indexes; None otherwise."""
        if index is not self._accs:
            return None
        ids = {v for k, v in index.items() if re.fullmatch(re.escape(prefix) + r"\d+gb?", k)}
        if not ids:
            return None
        return max(ids, key=lambda i: self.catalog.accelerator(i).memory_gb)

    def route(self, question: str) -> WorkloadSpec:
        # A run of more than 12 digits (with or without separators) is no quantity anyone
        # means; cutting it keeps every number pattern linear (a 20,000-digit paste took 96 s).
        question = distill_names(space_scripts(clip_long_numbers(question)))
        text = question.lower()
        words = _TOKEN.findall(question)
        # Names match on fine tokens ("Llama-2-70B-chat.Q4_K_M" -> llama, 2, 70B, chat, ...);
        # joined n-grams are normalised, so "llama-3.1-8b" still matches as one name.
        tokens = [t for w in words for t in re.split(r"[-_.]", w) if t]
        # Hardware tokens also split counts from names: "8xH100", "2x3090".
        hw_tokens = [
            t
            for w in words
            for part in re.split(r"[-_]", w)
            for t in re.split(r"(?<=\d)x(?=[a-z]|\d{3,})", part, flags=re.I)
            if t
        ]
        # the article before a number is no part of a name: "a 2 year project" is not an
        # NVIDIA A2, "a 10 GB card" not an A10
        hw_tokens = [
            t
            for i, t in enumerate(hw_tokens)
            if not (
                t in ("a", "A", "an") and i + 1 < len(hw_tokens) and hw_tokens[i + 1][:1].isdigit()
            )
        ]
        spec = WorkloadSpec()
        m = self._match(tokens, self._models, max_n=8)
        if m:
            spec.model = m[0]
            self._size_check(text, spec)
        else:
            size = (
                re.search(r"\b(\d+(?:\.\d+)?)\s*(b|bn|billion)\b(?!\s*tokens)", text)
                or re.search(
                    r"\b(\d+(?:\.\d+)?)\s*(m|million)\b\s*[- ]?(?:total\s+|trainable\s+)?param",
                    text,
                )
                or re.search(
                    # "a 350M model", "facebook/opt-125m", "pythia-410m": millions by a model's name
                    r"(?:\b|(?<=[a-z]-))(\d{2,3})\s*(m)\b(?:\s*[- ]?(?:model|llm|transformer)\b|"
                    r"(?<=[a-z]-\d\dm)|(?<=[a-z]-\d\d\dm))",
                    text,
                )
            )
            params = _scaled(size.group(1), size.group(2)) / 1e9 if size else None
            family_model = self._family_with_size(text, params) if params else None
            default = next(
                (
                    (model_id, note)
                    for family, (model_id, note) in understand.FAMILY_DEFAULTS.items()
                    if re.search(rf"\b{family}\b", text)
                ),
                None,
            )
            if family_model is not None:
                spec.model = family_model
            elif default is not None:
                # a family named without its size ("a quantized mixtral") beats a bare size
                # that belongs to something else in the question
                spec.model, spec.notes = default[0], [default[1]]
            else:
                spec.params_b = params
        spec.other_models = self._other_sizes(text, spec) or None
        self._hardware(question, hw_tokens, spec)
        if spec.num_accelerators is not None and not 1 <= spec.num_accelerators <= 100_000:
            spec.num_accelerators = None  # "0:H20", "-5 x H100": no count anyone means
        # the article "a" never starts an instance name: "a 4-GPU server" is not GCP's a4
        inst = self._match([t for t in tokens if t.lower() not in ("a", "an")], self._insts, 3)
        if inst:
            provider, name = inst[0].split("/", 1)
            spec.instance, spec.provider = name, provider
            if provider == "aws" and re.search(rf"\bml\.{re.escape(name.lower())}\b", text):
                spec.instance = f"ml.{name}"  # SageMaker's name: the hardware, not EC2's price
            sized = _INSTANCE_SHAPE.search(text)
            if sized and _norm(sized.group(0)) not in self._insts:
                # "g5.2xlarge" is not the catalogued g5.48xlarge: never swap in another size
                spec.instance = None
                family = sized.group(0).split(".")[0]
                sizes = [
                    i.name
                    for i in self.catalog.instances
                    if i.provider == provider and i.name.split(".")[0] == family
                ]
                spec.notes = [
                    *(spec.notes or []),
                    f"{sized.group(0)} is not in the catalog"
                    + (f" (catalogued in its family: {', '.join(sizes)})." if sizes else "."),
                ]
        if not spec.instance:
            self._vm_family(tokens, spec)
        elif spec.accelerator:
            row = self.catalog.instance(spec.provider, spec.instance)
            if row.accelerator and _norm(spec.instance).startswith(_norm(spec.accelerator)):
                spec.accelerator = row.accelerator  # GCP's "a2-highgpu" is A100s, not an A2
        # each pattern grouped: an ungrouped alternation would leave "[a-z]+\d…" unanchored and
        # quadratic on one long word
        named = {prov for word, prov in _PROVIDERS.items() if re.search(rf"\b(?:{word})\b", text)}
        if len(named) == 1 and spec.provider is None:
            spec.provider = named.pop()  # several providers named: compare across all
        elif len(named) > 1 and spec.provider is None:
            spec.providers = sorted(named)  # "an H100 on Lambda or on AWS?": those two
        for tok in words:
            region = self._regions.get(tok.lower())
            if region is not None:
                spec.region = region.id
                spec.provider = spec.provider or region.provider
        for word, geo in _GEO.items():
            if re.search(rf"\b{word}\b", text) and not (word == "us" and "for us" in text):
                spec.geography = geo  # type: ignore[assignment]
                break
        self._quantities(text, spec)
        self._situation(text, spec)
        if spec.workload == "full_finetune" and spec.method is None and spec.tokens is None:
            # a bare "fine-tune 76B" or "训练72b" names no method: the one sized (full or
            # LoRA, by the setup) and the other beside it, as the answer depends on it
            spec.other_methods = ["full", "lora"]
        spec.intents = self._intents(text, spec)
        if (
            spec.workload in ("inference", "batch_inference")
            and spec.method is None
            and "train" in spec.intents
            and not understand.TRAINING_VERB_RE.search(text)
        ):
            spec.intents = [i for i in spec.intents if i != "train"]  # a LoRA in the model run
        return spec

    def _vm_family(self, tokens: list[str], spec: WorkloadSpec) -> None:
        """A VM series named without a size ("NCv3 cores", "the NC series", "NC A100 v4"):
        the provider and the series' GPU, when no card was named. A two-letter series (NC,
        ND, NV) counts only when called a series."""
        low = [t.lower().strip(".,;:()[]?!'\"") for t in tokens]
        for i in range(len(low)):
            for n in (3, 2, 1):
                key = _norm("".join(low[i : i + n]))
                hit = self._families_vm.get(key)
                if hit is None:
                    continue
                after = low[i + n] if i + n < len(low) else ""
                if len(key) <= 2 and after not in ("series", "-series", "family", "vms", "sku"):
                    continue
                provider, acc = hit
                if spec.provider in (None, provider):
                    spec.provider = provider
                    spec.accelerator = spec.accelerator or acc
                    return

    def _other_sizes(self, text: str, spec: WorkloadSpec) -> list[str | float]:
        """Other sizes named beside the model ("Vicuna-7B and Vicuna-13B", "llama 7/13/70b"):
        the variants of its family with those sizes, or bare sizes; at most three."""
        main = self.catalog.model(spec.model).params_b if spec.model else spec.params_b
        if main is None:
            return []
        sizes: list[float] = []
        for m in re.finditer(r"(?<![\w.])((?:\d+(?:\.\d+)?/)+\d+(?:\.\d+)?)\s*b\b", text):
            sizes += [float(x) for x in m.group(1).split("/")]  # "7/13/70b"
        sizes += [
            _scaled(g.group(1), g.group(2)) / 1e9
            for g in re.finditer(r"(?<![\w./])(\d+(?:\.\d+)?)\s*(b|bn)\b(?!\s*tokens)", text)
        ]
        family = self.catalog.model(spec.model).family if spec.model else None
        out: list[str | float] = []
        seen = [main]
        for size in sizes:
            if size <= 0 or any(abs(size / x - 1) <= 0.3 for x in seen):
                continue
            seen.append(size)
            variants = [
                v
                for v in self.catalog.models
                if family and v.family == family and abs(v.params_b / size - 1) <= 0.15
            ]
            if variants:
                out.append(min(variants, key=lambda v: abs(math.log(v.params_b / size))).id)
            else:
                out.append(size)
            if len(out) == 3:
                break
        return out

    def _size_check(self, text: str, spec: WorkloadSpec) -> None:
        """A size that contradicts the named model picks the variant of that name with it.

        "deepseek-r1:7b" is the 7B distill, not the 671B model; with no such variant the size
        wins over the name ("llama 3.1 13b" is sized as a 13B model).
        """
        assert spec.model is not None
        row = self.catalog.model(spec.model)
        sizes = [
            _scaled(g.group(1), g.group(2)) / 1e9
            for g in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(b|bn)\b(?!\s*tokens)", text)
        ]
        if not sizes or any(abs(row.params_b / x - 1) <= 0.3 for x in sizes):
            return
        size = sizes[0]
        variants = [
            v
            for v in self.catalog.models
            if (v.id.startswith(row.id) or v.family == row.family)
            and abs(v.params_b / size - 1) <= 0.15
        ]
        if variants:
            best = min(variants, key=lambda v: abs(math.log(v.params_b / size)))
            spec.model = best.id
        else:
            spec.model, spec.params_b = None, size

    def _family_with_size(self, text: str, params_b: float) -> str | None:
        """A catalog model of the family named in ``text`` with about ``params_b`` parameters.

        "llama v2 70b" and "Llama-2-70B-GPTQ" -> llama-2-70b; "llama 70b" (no version) names
        several models, so it stays a bare size.
        """
        flat = re.sub(r"(?<=[a-z])\s*[-_ ]?v(?=\d)", "", text)  # "llama v2" -> "llama2"
        flat = re.sub(r"[^a-z0-9.]", "", flat).replace(".", "")
        for family, model in self._families:
            if family in flat and abs(model.params_b / params_b - 1) <= 0.15:
                # the longest family key wins ("llama31" before "llama3")
                same = [
                    m
                    for f, m in self._families
                    if f == family and abs(m.params_b / params_b - 1) <= 0.15
                ]
                if len(same) == 1:
                    return str(same[0].id)
                return _one_shape(same)

        # the family's first word only ("671B deepseek"): one answer if all its models of
        # that size share one architecture (DeepSeek V3 and R1 size alike)
        def first_word(family: str) -> str:
            return re.split(r"[^a-z]+", family.lower())[0]

        words = {first_word(m.family) for _, m in self._families}
        for word in sorted(words, key=len, reverse=True):
            # a version after the word that no catalogued model has ("llama 3.1 13b") is
            # not completed with another version's model
            version = r"(?![\s_-]*v?\d+(?:\.\d+)?\b(?!\s*[bm]\b))"
            if len(word) >= 4 and re.search(rf"\b{word}\b{version}", text):
                same = [
                    m
                    for _, m in self._families
                    if first_word(m.family) == word and abs(m.params_b / params_b - 1) <= 0.15
                ]
                if same:
                    return _one_shape(same)
        return None

    def _hardware(self, question: str, tokens: list[str], spec: WorkloadSpec) -> None:
        """The accelerator named, how many, and the memory the user says it has."""
        text = understand.ram_typos(question.lower())
        named = self._all_matches(tokens, self._accs, max_n=6)
        # the card named first is the one they have ("10g on T4 ... also tried a 4090"), said
        # more exactly later if it is ("MacBook Pro M1 ... Processor: Apple M1 Pro")
        a = named[0] if named else None
        if a is not None:
            exact = [n for n in named if n[0].startswith(a[0] + "-") and n[0].startswith("apple-")]
            a = exact[0] if exact else a
        subject: str | None = None
        if len({k for k, _, _ in named}) > 1:
            # "I have a 3050 ... I might buy a 4090": the card to buy or asked about is the
            # subject, not the one left behind
            for k, start, end in named:
                before = {t.lower() for t in tokens[max(0, start - 4) : start]}
                if before & understand.SUBJECT_CUES and not before & understand.NEGATING_WORDS:
                    a, subject = (k, start, end), k
                    break
            if subject is None and a is not None:
                # "I saw you used 8 A100s. Is it possible with 4 x RTX A6000?": the card
                # someone else used is not the one asked about
                def referenced(start: int) -> bool:
                    window = {t.lower() for t in tokens[max(0, start - 6) : start]}
                    return bool(window & understand.REFERENCE_CUES)

                if referenced(a[1]):
                    own = [n for n in named if n[0] != a[0] and not referenced(n[1])]
                    if own:
                        a = own[0]
        adjacent: float | None = None
        if a:
            spec.accelerator = a[0]
            # explicit launch settings first ("--nproc_per_node=2", "GPU 0-7"), then the words
            spec.num_accelerators = understand.launch_gpu_count(
                text, parallel=False
            ) or understand.count_before(tokens, a[1])
            last = tokens[a[2] - 1].lower()
            first = _find_token(text, tokens[a[1]].lower())
            for at in _token_positions(text, last):
                end = at + len(last)
                if spec.num_accelerators is None:
                    spec.num_accelerators = understand.count_after(text, end)
                adjacent = adjacent or understand.memory_after(text, end)
            if spec.num_accelerators is None:
                spec.num_accelerators = understand.count_star(text, first)
            if spec.num_accelerators is None:
                spec.num_accelerators = understand.launch_gpu_count(text)
            adjacent = adjacent or understand.memory_before(text, first)
            if adjacent is not None:
                spec.accelerator = self._variant_with_memory(spec.accelerator, adjacent)
        compared = understand.compares(text)  # once: the text is long, the card list may be too
        for (k1, s1, e1), (k2, s2, _) in zip(named, named[1:], strict=False):
            between = [t.lower() for t in tokens[e1:s2]]
            # "2x 3090 vs 1x 4090", "a 4090 or two 3090s": options joined by or / vs
            if subject not in (None, k1, k2):
                break  # "you mention V100 or A100, but can a newer 3080 work?": not options
            joined = {"or", "vs", "versus"}
            if compared and len({k for k, _, _ in named}) == 2:
                joined |= {"and", "than"}  # "the difference between an A100 and an H100"
            if k1 != k2 and len(between) <= 4 and joined & set(between):
                spec.options = [
                    (k1, understand.count_before(tokens, s1) or 1),
                    (k2, understand.count_before(tokens, s2) or 1),
                ]
                break
        total = understand.total_memory_gb(text)
        per_card: float | None = None
        if total is not None and spec.num_accelerators is None and not spec.accelerator:
            spec.num_accelerators = self._generic_count(text)  # "two cards, 48 GB combined"
        if adjacent is None and total is not None and (spec.num_accelerators or 1) > 1:
            per_card = total / int(spec.num_accelerators or 1)
            if spec.accelerator:
                spec.accelerator = self._variant_with_memory(spec.accelerator, per_card)
                per_card = None
        apple = understand.apple_context(text) or bool(
            spec.accelerator and spec.accelerator.startswith("apple-")
        )
        if apple:
            spec.unified_memory_gb = adjacent or understand.unified_memory_gb(text)
            if spec.accelerator and spec.unified_memory_gb:
                spec.accelerator = self._apple_variant(spec.accelerator, spec.unified_memory_gb)
        else:
            said = understand.device_memory_gb(text)
            if adjacent is None and said is not None and a is not None:
                # "I saw you used 8 A100 40GB GPUs ... with 4 x RTX A6000?": 40 GB is the
                # A100's, written beside it, not the memory of the card asked about
                others: set[float | None] = set()
                for k, st, e in named:
                    if k == a[0]:
                        continue
                    for t in tokens[st:e]:  # "A100 40GB" matched with its memory
                        others.add(understand.gb_token(t))
                    end_at = _find_token(text, tokens[e - 1].lower()) + len(tokens[e - 1])
                    others.add(understand.memory_after(text, end_at))
                if said in others:
                    said = None
            spec.device_memory_gb = adjacent or said or per_card
            if spec.device_memory_gb is None and not spec.accelerator:
                spec.device_memory_gb = understand.unnamed_gpu_memory_gb(text)
            catalogued = (
                self.catalog.accelerator(spec.accelerator).memory_gb if spec.accelerator else None
            )
            if spec.device_memory_gb is not None and spec.accelerator and adjacent is None:
                # memory said elsewhere ("DGX-A100 (8x40G)") still picks the card's variant
                spec.accelerator = self._variant_with_memory(
                    spec.accelerator, spec.device_memory_gb
                )
                catalogued = self.catalog.accelerator(spec.accelerator).memory_gb
            if spec.device_memory_gb is not None and spec.device_memory_gb == catalogued:
                spec.device_memory_gb = None  # the catalogued card, as said
            spec.system_ram_gb = understand.system_ram_gb(text)
            if spec.device_memory_gb is not None and spec.num_accelerators is None:
                spec.num_accelerators = self._generic_count(text)
        if spec.num_accelerators is None and spec.accelerator:
            spec.num_accelerators = self._generic_count(text)  # "6 gpus (T4 16G per GPU)"
        if spec.num_accelerators is None and (spec.accelerator or spec.device_memory_gb):
            spec.num_accelerators = understand.launch_gpu_count(text)
        if spec.accelerator or spec.device_memory_gb:
            # "2 nodes, each with 2 V100": the count said beside the card is per node
            spec.num_accelerators = understand.node_gpu_count(text) or spec.num_accelerators
        if (
            spec.accelerator
            and spec.num_accelerators
            and spec.num_accelerators > 1
            and spec.device_memory_gb
            and spec.device_memory_gb > 2 * self.catalog.accelerator(spec.accelerator).memory_gb
        ):
            # "8x A100 640GB", "DGX A100 640GB": the memory of the whole box
            per_card = spec.device_memory_gb / spec.num_accelerators
            spec.accelerator = self._variant_with_memory(spec.accelerator, per_card)
            catalogued = self.catalog.accelerator(spec.accelerator).memory_gb
            spec.device_memory_gb = None if per_card == catalogued else per_card
        if spec.num_accelerators is None and not spec.accelerator:
            launched = understand.launch_gpu_count(text)  # "--tensor-parallel-size=4"
            spec.num_accelerators = launched if launched and launched > 1 else None
        if (tpu := understand.tpu_slice(text)) is not None:
            acc_id, chips, written = tpu
            try:
                spec.accelerator = self.catalog.accelerator(acc_id).id
                spec.num_accelerators = chips
                counts = "chips" if acc_id.endswith("e") else "TensorCores, two per chip"
                spec.notes = [
                    *(spec.notes or []),
                    f"TPU {written.removeprefix('tpu').strip('- ')} read as {chips} chip"
                    f"{'s' if chips > 1 else ''} of {self.catalog.accelerator(acc_id).name} "
                    f"(the slice name counts {counts}).",
                ]
            except AdvisorError:
                pass  # a TPU generation the catalog lacks: left unread, never swapped
        board = (
            self._match(tokens, self._cpus, 6)
            if not (spec.accelerator or spec.device_memory_gb or spec.unified_memory_gb)
            else None
        )
        if board is not None and not understand.GPU_WORD_RE.search(text):
            spec.accelerator, spec.cpu_only = board[0], True  # "Phi-2 on a Raspberry Pi 5"
        elif understand.cpu_only(text) and not spec.accelerator:
            spec.cpu_only = True
        elif (
            spec.system_ram_gb
            and not (spec.accelerator or spec.device_memory_gb or spec.unified_memory_gb)
            and not understand.GPU_WORD_RE.search(text)
            and not understand.apple_context(text)
        ):
            spec.cpu_only = True  # "RWKV 14B on 12 gigs of system RAM": only RAM, so the CPU
        if (spec.accelerator or spec.device_memory_gb) and understand.owned(text):
            spec.owned = True
        if adjacent is not None and spec.system_ram_gb == adjacent:
            spec.system_ram_gb = None  # "RTX 2080 Ti (with 11GB ram)": the card's memory
        if spec.system_ram_gb or spec.cpu_only:
            spec.ram_kind, spec.ram_channels, spec.ram_mt_s = understand.ram_details(text)

    def _variant_with_memory(self, acc_id: str, memory_gb: float) -> str:
        """The catalogued variant of ``acc_id`` with the memory the user named ("A100 40G")."""
        acc = self.catalog.accelerator(acc_id)
        if acc.memory_gb == memory_gb:
            return acc_id

        def base(name: str) -> str:
            # the name less its memory and form factor: "A100 SXM 40GB" -> "a100"; a
            # "3060 Ti" is another product than a "3060", whatever its memory
            name = re.sub(r"\d+\s*gb\b", " ", name.lower())
            return " ".join(re.sub(r"\b(sxm\d?|pcie|nvl|hbm\w*)\b", " ", name).split())

        same = [
            x
            for x in self.catalog.accelerators
            if x.memory_gb == memory_gb
            and x.vendor == acc.vendor
            and base(x.name) == base(acc.name)
        ]
        return same[0].id if same else acc_id

    def _apple_variant(self, acc_id: str, memory_gb: float) -> str:
        """A chip of the same generation that comes with that much memory: "Mac Studio M1
        64GB" is an M1 Max (an M1 tops out at 16 GB, an M1 Pro at 32 GB)."""
        acc = self.catalog.accelerator(acc_id)
        if not acc_id.startswith("apple-") or memory_gb <= acc.memory_gb:
            return acc_id
        gen = re.match(r"apple-m\d+", acc_id)
        assert gen is not None
        bigger = [
            x
            for x in self.catalog.accelerators
            if re.fullmatch(gen.group(0) + r"(?:-pro|-max|-ultra)", x.id)
            and x.memory_gb >= memory_gb
        ]
        return min(bigger, key=lambda x: x.memory_gb).id if bigger else acc_id

    @staticmethod
    def _generic_count(text: str) -> int | None:
        """'two 12GB cards', '2 x 16 GB GPUs', '4x 24gb gpus'."""
        m = (
            re.search(
                r"\b(\d+|two|three|four|five|six|eight|dual|quad)(?:\s*x\s*|\s+)\d+(?:\.\d+)?\s*"
                r"(?:gb|g)\b\s*(?:\w+\s+)?(?:cards?|gpus?|vram)",
                text,
            )
            or re.search(r"\b(\d{1,2})\s*x\s*\d+(?:\.\d+)?\s*gb\b", text)
            or re.search(
                r"\b(\d+|two|three|four|five|six|eight|dual|quad)\s+(?:\w+\s+){0,2}?"
                r"(?:graphics cards|cards|gpus)\b",
                text,
            )
            or re.search(r"\b(\d{1,3})\s*[张块个台]?\s*(?:显卡|卡|gpu)", text)  # "2 张卡"
        )
        if not m:
            return None
        word = m.group(1)
        return int(word) if word.isdigit() else understand.COUNT_WORDS.get(word)

    @staticmethod
    def _situation(text: str, spec: WorkloadSpec) -> None:
        spec.kind = understand.question_kind(text)
        if (
            spec.options
            and spec.kind in (None, "fit", "speed")
            and re.search(r"\b(?:or|vs\.?|versus|compared (?:to|with)|better)\b", text)
        ):
            spec.kind = "choose"  # "a 4090 or two 3090s for ...?"
        spec.workload = understand.workload(text)
        bare_train = spec.workload == "full_finetune" and not re.search(
            r"fine-?\s?tun|finetun|\bsft\b", text
        )
        if bare_train and spec.tokens is not None and spec.tokens >= 1e10:
            spec.workload = "pretraining"  # a bare "train" at pretraining scale (>= 10B tokens)
        spec.engine = understand.engine(text)
        if (
            spec.workload == "full_finetune"
            and spec.engine in understand.ADAPTER_FIRST_ENGINES
            and not re.search(r"\bfull\b|全参|全量", text)
        ):
            # a bare "fine-tune" with axolotl or unsloth is their default: adapters
            spec.workload = understand.ADAPTER_FIRST_ENGINES[spec.engine]
            spec.notes = [
                *(spec.notes or []),
                f"Fine-tuning with {spec.engine} read as {spec.workload.upper()}, its usual "
                "setup (say 'full fine-tune' for the other).",
            ]
        serving_engine = spec.engine in (
            "vllm",
            "tgi",
            "sglang",
            "tensorrt-llm",
            "ollama",
            "llama.cpp",
            "exllama",
            "koboldcpp",
            "lm studio",
            "mlc-llm",
            "ktransformers",
        )
        if spec.workload is None and (
            serving_engine
            or spec.kind in ("speed", "capacity")
            or bool(spec.model or spec.params_b or spec.accelerator or spec.device_memory_gb)
        ):
            spec.workload = "inference"  # no training named: running the model is the default
        if spec.workload in ("inference", "batch_inference"):
            spec.batch_size = understand.batch_size(text)
            if spec.batch_size and spec.batch_size > 1:
                spec.workload = "batch_inference"  # many sequences at once: throughput
        spec.kv_dtype = understand.kv_dtype(text)
        spec.memory_fraction = understand.memory_fraction(text)
        spec.zero_stage, spec.offload_optimizer = understand.deepspeed_settings(text)
        dtype = understand.weight_dtype(understand.strip_kv_mentions(text))
        if dtype is not None:
            spec.dtype = dtype
        if spec.workload == "qlora":
            spec.method = "qlora"
        elif spec.workload == "lora":
            spec.method = spec.method or "lora"
        if spec.kind == "speed" and spec.tokens_per_s is not None:
            spec.observed_tokens_per_s, spec.tokens_per_s = spec.tokens_per_s, None
        if not spec.accelerator and understand.buys_local_card(text):
            spec.buying_local = True
        if spec.kind in ("speed", "troubleshoot") and understand.reports_slow(text):
            spec.reports_slow = True
        if (
            spec.method == "lora"
            and spec.workload in ("inference", "batch_inference")
            and not understand.TRAINING_VERB_RE.search(text)
        ):
            spec.method = None  # "run llama 13B + a Chinese LoRA in 4-bit": part of the model

    def _quantities(self, text: str, spec: WorkloadSpec) -> None:
        if t := re.search(_NUM + _SCALE + r"\s*tokens?\b(?!\s*(?:/|per)\s*s)", text):
            value = _scaled(t.group(1), t.group(2))
            if value >= 1e6:
                spec.tokens = value
        elif t := re.search(
            _NUM + _SCALE + r"\s*(?:training\s+)?(?:examples|samples|rows|conversations|"
            r"instructions|instruction pairs|q&a pairs|dialogues|entries|records|"
            r"data points)\b|" + _NUM + _SCALE + r"\s*条(?:训练)?(?:数据|样本|对话|指令)",
            text,
        ):
            n = _scaled(t.group(1) or t.group(3), t.group(2) or t.group(4))
            if n >= 100:
                spec.tokens = n * TOKENS_PER_EXAMPLE
                epochs = _epochs(text)
                spec.tokens *= epochs or 1
                spec.notes = [
                    *(spec.notes or []),
                    f"{n:,.0f} examples read as about {n * TOKENS_PER_EXAMPLE:,.0f} tokens "
                    f"({TOKENS_PER_EXAMPLE:,} per example; give the token count for a "
                    "closer figure)"
                    + (f", x {epochs:g} epochs = {spec.tokens:,.0f} tokens." if epochs else "."),
                ]
        if c := re.search(
            r"(\d+)\s*k\s*(?:-?token\s*)?(?:context|ctx|prompt|window|上下文)", text
        ) or re.search(
            r"(?:context (?:of|length of|window of)?|上下文(?:长度)?)\s*(\d+)\s*k\b", text
        ):
            k = int(c.group(1))
            # "32k context" means 32,768 tokens; other round figures are decimal.
            spec.context_tokens = (
                k * 1024 if k in (2, 4, 8, 16, 32, 64, 128, 256, 512) else k * 1000
            )
            spec.context_needed = understand.context_needed(text) or None
        elif setting := understand.context_setting(text):
            spec.context_tokens = setting
        elif named := understand.context_in_model_name(text):
            spec.context_tokens = named  # "Llama-2-7B-32K-Instruct": loaded at its window

        def said(pattern: str) -> bool:  # named and not denied ("LoRA is not an option")
            return any(
                not understand.negated(text, m.start(), m.end()) for m in re.finditer(pattern, text)
            )

        named: list[Literal["full", "lora", "qlora"]] = [
            m
            for m, pattern in (
                ("qlora", r"\bq-?lora\b|\b4[- ]?bit\s+lora\b"),
                ("lora", r"(?<![q-])\blora\b"),
                ("full", r"full fine-?\s?tun|\bfully fine-?\s?tun|\bfull[- ]param|全参|全量"),
            )
            if said(pattern)
        ]
        if named:
            # "memory for full training and for LoRA?": the first is sized, the others beside it
            spec.method, spec.other_methods = named[0], named[1:] or None
        if r := re.search(
            _NUM + r"\s*(?:k\s*)?(?:requests?|reqs?|queries|calls)\s*(?:/|per|a)\s*"
            r"(?:s\b|sec|second)",
            text,
        ) or re.search(_NUM + r"\s*(?:rps|qps)\b", text):
            spec.requests_per_s = _num(r.group(1))
        if r := re.search(_NUM + r"\s*(?:requests?|queries)\s*(?:/|per|a)\s*min", text):
            spec.requests_per_s = _num(r.group(1)) / 60
        if r := re.search(
            _NUM + _SCALE + r"\s*(?:requests?|queries|calls)\s*(?:/|per|a|each)\s*(hour|day|month)",
            text,
        ):  # "1 million requests per day": the average rate
            per = {"hour": 3600, "day": 86_400, "month": 30 * 86_400}[r.group(3)]
            spec.requests_per_s = _scaled(r.group(1), r.group(2)) / per
        if r := re.search(
            _NUM + _SCALE + r"\s*(?:output\s*)?(?:tokens?|toks?|t)\s*(?:/|per)\s*"
            r"(?:s\b|sec|second)",
            text,
        ):
            spec.tokens_per_s = _scaled(r.group(1), r.group(2))
        elif r := re.search(
            _NUM + r"\s*(?:tokens?|toks?)\s*(?:/|per|a)\s*min(?:ute)?\b", text
        ):  # "responding at 4 tokens per minute"
            spec.tokens_per_s = _num(r.group(1)) / 60
        if r := re.search(
            _NUM + r"\s*(?:concurrent|simultaneous)\s*(?:users|requests|sessions)", text
        ):
            spec.concurrency = int(_num(r.group(1)))
        if r := re.search(
            r"(?:p9[59]|latency|ttft|under|below|within)\D{0,20}?"
            + _NUM
            + r"\s*(ms|milliseconds?|s|sec|seconds?)\b",
            text,
        ):
            value = _num(r.group(1))
            spec.latency_s = value / 1000 if r.group(2).startswith("m") else value
        if r := re.search(
            r"(?:in|within|under|deadline of)\s+" + _NUM + r"\s*(days?|weeks?|months?)\b", text
        ):
            unit = r.group(2)
            spec.deadline_days = _num(r.group(1)) * (
                7 if unit.startswith("week") else 30 if unit.startswith("month") else 1
            )
        elif r := re.search(r"\b(?:in|within|under)\s+(?:a|one|an)\s+(day|week|month)\b", text):
            unit = r.group(1)  # "in a week"
            spec.deadline_days = 7 if unit == "week" else 30 if unit == "month" else 1
        if r := re.search(r"\$\s*" + _NUM + r"\s*(k|m|million|thousand)?\b", text):
            spec.budget_usd = _scaled(r.group(1), r.group(2))
        if r := re.search(
            r"(\d+(?:\.\d+)?)\s*%\s*(?:utili[sz]|busy|usage|of the time|load)", text
        ) or re.search(r"utili[sz]\w*\D{0,20}?(\d+(?:\.\d+)?)\s*%", text):
            spec.utilization = min(1.0, _num(r.group(1)) / 100)
        if r := re.search(r"(\d+(?:\.\d+)?)\s*(?:-?\s*)(?:years?|yrs?)\b", text):
            spec.years = _num(r.group(1))
        if re.search(r"\bspot\b|\bpreemptible\b", text):
            spec.pricing = "spot"
        elif re.search(r"3[- ]?y(?:ea)?r|three[- ]year", text) and "commit" in text:
            spec.pricing = "commit_3y"
        elif re.search(r"1[- ]?y(?:ea)?r|one[- ]year|reserved|commit", text):
            spec.pricing = "commit_1y"

    @staticmethod
    def _intents(text: str, spec: WorkloadSpec) -> list[Intent]:
        found: list[Intent] = []
        for intent in INTENT_ORDER:
            if any(_INTENT_RE[w].search(text) for w in INTENT_WORDS[intent]):
                found.append(intent)
        if re.search(r"how much (?!memory|vram|ram|gpu memory|hbm)", text) and "cost" not in found:
            found.append("cost")
        named = spec.instance or spec.accelerator or spec.provider
        if named and re.search(r"\b(vs\.?|versus|or)\b", text) and "compare" not in found:
            found.append("compare")
        if spec.tokens is not None and "train" not in found and "serve" not in found:
            found.append("train")
        if (spec.requests_per_s or spec.tokens_per_s or spec.latency_s) and "serve" not in found:
            found.append("serve")
        if spec.utilization is not None and "tco" not in found and ("buy" in text or "own" in text):
            found.append("tco")
        # sort into the canonical order
        return [i for i in INTENT_ORDER if i in found]


def _one_shape(models: list[Model]) -> str | None:
    """The first of ``models`` if they are one architecture (same sizes and layers), else None."""
    shapes = {(m.params_b, m.active_params_b, m.layers) for m in models}
    return str(models[0].id) if len(shapes) == 1 else None


_CJK = r"\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_SCRIPT_EDGE = re.compile(rf"(?<=[{_CJK}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[{_CJK}])")


# Chinese counts of devices: a numeral before a measure word ("四台V100", "两张4090", "八卡").
_CJK_NUMERALS = {
    "一": 1,
    "单": 1,
    "两": 2,
    "二": 2,
    "双": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十六": 16,
    "三十二": 32,
    "六十四": 64,
}
_CJK_COUNT = re.compile(
    "(" + "|".join(sorted(_CJK_NUMERALS, key=len, reverse=True)) + ")(?=[台张块个片卡])"
)
# A size glued to a family name ("Qwen7B", "llama13b") and a card number glued to a word
# ("3090lora"): split so that each is a word.
_GLUED_SIZE = re.compile(r"(?<=[a-z]{3})(?=\d{1,3}(?:\.\d)?b(?![a-z0-9]))", re.I)
_GLUED_WORD = re.compile(r"(?<=\d{4})(?=(?:q?lora|gpus?|cards?)(?![a-z]))", re.I)
# A memory size glued to a device name: "8*32GV100" -> "8*32G V100".
_GLUED_MEMORY = re.compile(r"(?<=\d)(gb?|GB?)(?=[A-Za-z]{1,3}\d)")
# An image size ("1920x1080", "768 x 768"): two pixel counts, not a count and a card.
_RESOLUTION = re.compile(r"\b\d{3,4}\s*[x×*]\s*\d{3,4}\b(?!\s*(?:gb|gib|g|mb)\b)", re.I)
# A count glued after a card: "A100x8" -> "A100 x8".
_GLUED_TIMES = re.compile(
    r"(?<=[A-Za-z]\d{3})(?=[xX]\d{1,3}\b)|(?<=[A-Za-z]\d{2})(?=[xX]\d{1,3}\b)|"
    r"(?<=\d{4})(?=[xX]\d{1,2}\b)"
)


_INSTANCE_SHAPE = re.compile(r"\b[a-z]{1,4}\d+[a-z]*(?:-[a-z]+)?\.\d*x?large\b")  # g5.2xlarge


def space_scripts(text: str) -> str:
    """Fold full-width forms to ASCII and put a space where CJK meets Latin letters or digits,
    so that word boundaries hold: "4090加576g内存跑deepseek R1 671b Q4能到" reads like the
    English text would ("Q4 能到": Q4 is a word). Chinese device counts become digits
    ("四台V100" -> "4 台 V100") and a memory size glued to a name is split off."""
    text = unicodedata.normalize("NFKC", text)
    # a space before the digits keeps a Latin word ahead of it whole: "用deepspeed双卡" is
    # "deepspeed 2 卡", not "deepspeed2"
    text = _CJK_COUNT.sub(lambda m: " " + str(_CJK_NUMERALS[m.group(1)]), text)
    text = _GLUED_MEMORY.sub(lambda m: m.group(1) + " ", text)
    text = _RESOLUTION.sub(" resolution ", text)  # "1920x1080" names no GTX 1080
    text = _GLUED_TIMES.sub(" ", text)
    text = _GLUED_SIZE.sub(" ", text)
    text = _GLUED_WORD.sub(" ", text)
    return _SCRIPT_EDGE.sub(" ", text)


# DeepSeek-R1's distilled models named in words: "deepseek 蒸馏版的 qwen-32B", "the R1
# distilled Llama 70B", "DeepSeek distill of Qwen 14B" -> "deepseek-r1-distill-qwen-32b".
_DISTILL = re.compile(
    r"\b(?:deepseek(?:[- ]?r1)?|r1)\b[^,.;?!，。？]{0,12}?(?:distill\w*|蒸馏)[^,.;?!，。？]{0,12}?"
    r"\b(qwen|llama)(?:[- ]?(?:2\.5|3\.1|3\.3|3)(?=[- ]))?[- ]?(\d+(?:\.\d+)?)\s*b\b",
    re.I,
)


_FORMAT_WORD = re.compile(r"(?:fp|bf|int|nf|mxfp|nvfp|w\d+a)\d+$|q\d_", re.I)


def distill_names(text: str) -> str:
    return _DISTILL.sub(lambda m: f"deepseek-r1-distill-{m.group(1).lower()}-{m.group(2)}b", text)


def clip_long_numbers(text: str) -> str:
    """Cut runs of more than 12 digits (separators included) to their first 12 characters."""
    return _LONG_DIGITS.sub(lambda m: m.group()[:12], text)


def _find_token(text: str, token: str) -> int:
    m = re.search(r"(?<![a-z0-9])" + re.escape(token), text)
    return m.start() if m else -1


def _token_positions(text: str, token: str) -> list[int]:
    # "8xa100-40g": a count joined by "x" still leaves the name a word
    return [m.start() for m in re.finditer(r"(?:(?<=\dx)|(?<![a-z0-9]))" + re.escape(token), text)]


def spec_from_history(router: Router, questions: list[str]) -> WorkloadSpec:
    """Replay earlier user questions in order: each follow-up refines the spec."""
    spec = WorkloadSpec()
    for q in questions:
        spec = spec.merged(router.route(q))
    return spec
