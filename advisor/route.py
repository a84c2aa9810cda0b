"""Deterministic routing: a question (plus history) -> WorkloadSpec slots and intents.

No model is involved. Names are matched against the catalogs the way people type them
("llama 3 70b", "8xH100", "p5", "L4s"); quantities by patterns ("2T tokens", "50 requests/s",
"p95 under 2 s", "in 3 weeks", "$50k"). A follow-up inherits the previous questions' slots
("what about on GCP?", "and at 4-bit?").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from advisor.tools.catalog import Catalog, _norm

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
    latency_s: float | None = None
    deadline_days: float | None = None
    budget_usd: float | None = None
    utilization: float | None = None
    years: float | None = None
    pricing: Literal["on_demand", "spot", "commit_1y", "commit_3y"] | None = None
    intents: list[Intent] = Field(default_factory=list)

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
        data["intents"] = newer.intents or self.intents
        return WorkloadSpec(**data)

    def described(self) -> list[str]:
        """Slots that were set, for display ("model=llama-3.1-70b")."""
        return [
            f"{k}={v}" for k, v in self.model_dump(exclude={"intents"}).items() if v is not None
        ]


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.\-_][A-Za-z0-9]+)*")
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
    "azure": "azure",
    "microsoft": "azure",
    "gcp": "gcp",
    "google": "gcp",
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
_DTYPES = [
    (r"\bq4_k_m\b", "q4_k_m"),
    (r"\bq8_0\b", "q8_0"),
    (r"\bq5_k_m\b", "q5_k_m"),
    (r"\bfp8\b|\b8[- ]?bit float", "fp8"),
    (r"\bint8\b|\b8[- ]?bit\b", "int8"),
    (r"\bfp4\b|\bnvfp4\b|\bmxfp4\b", "fp4"),
    (r"\bint4\b|\b4[- ]?bit\b|\bgptq\b|\bawq\b", "int4"),
    (r"\bbf16\b|\bbfloat16\b", "bf16"),
    (r"\bfp16\b|\bhalf precision\b|\b16[- ]?bit\b", "fp16"),
    (r"\bfp32\b|\bfull precision\b", "fp32"),
]
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
        self._regions = {r.id.lower(): r for r in catalog.regions}

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

    def route(self, question: str) -> WorkloadSpec:
        text = question.lower()
        tokens = _TOKEN.findall(question)
        spec = WorkloadSpec()
        # split "8xh100" into "8", "x", "h100"
        tokens = [t for tok in tokens for t in re.split(r"(?<=\d)x(?=[a-z])", tok, flags=re.I)]
        m = self._match(tokens, self._models)
        if m:
            spec.model = m[0]
        else:
            size = re.search(
                r"\b(\d+(?:\.\d+)?)\s*(b|bn|billion)\b(?!\s*tokens)", text
            ) or re.search(r"\b(\d+(?:\.\d+)?)\s*(m|million)\b\s*[- ]?param", text)
            if size:
                spec.params_b = _scaled(size.group(1), size.group(2)) / 1e9
        a = self._match(tokens, self._accs, max_n=4)
        if a:
            spec.accelerator = a[0]
            before = " ".join(tokens[max(0, a[1] - 2) : a[1]]).lower()
            cnt = re.search(r"(\d+)\s*x?$", before)
            if cnt:
                spec.num_accelerators = int(cnt.group(1))
            else:
                word = before.split()[-1] if before.split() else ""
                if word in _WORDNUM and word not in ("a", "an", "single"):
                    spec.num_accelerators = _WORDNUM[word]
        inst = self._match(tokens, self._insts, max_n=3)
        if inst:
            provider, name = inst[0].split("/", 1)
            spec.instance, spec.provider = name, provider
        named = {prov for word, prov in _PROVIDERS.items() if re.search(rf"\b{word}\b", text)}
        if len(named) == 1 and spec.provider is None:
            spec.provider = named.pop()  # several providers named: compare across all
        for tok in tokens:
            region = self._regions.get(tok.lower())
            if region is not None:
                spec.region = region.id
                spec.provider = spec.provider or region.provider
        for word, geo in _GEO.items():
            if re.search(rf"\b{word}\b", text) and not (word == "us" and "for us" in text):
                spec.geography = geo  # type: ignore[assignment]
                break
        self._quantities(text, spec)
        spec.intents = self._intents(text, spec)
        return spec

    def _quantities(self, text: str, spec: WorkloadSpec) -> None:
        if t := re.search(_NUM + _SCALE + r"\s*tokens?\b(?!\s*(?:/|per)\s*s)", text):
            value = _scaled(t.group(1), t.group(2))
            if value >= 1e6:
                spec.tokens = value
        if c := re.search(
            r"(\d+)\s*k\s*(?:-?token\s*)?(?:context|ctx|prompt|window)", text
        ) or re.search(r"context (?:of|length of|window of)?\s*(\d+)\s*k\b", text):
            k = int(c.group(1))
            # "32k context" means 32,768 tokens; other round figures are decimal.
            spec.context_tokens = (
                k * 1024 if k in (2, 4, 8, 16, 32, 64, 128, 256, 512) else k * 1000
            )
        for pattern, dtype in _DTYPES:
            if re.search(pattern, text):
                spec.dtype = dtype
                break
        if re.search(r"\bqlora\b", text):
            spec.method = "qlora"
        elif re.search(r"\blora\b", text):
            spec.method = "lora"
        elif re.search(r"full fine-?\s?tun", text):
            spec.method = "full"
        if r := re.search(
            _NUM + r"\s*(?:k\s*)?(?:requests?|reqs?|queries|calls)\s*(?:/|per|a)\s*"
            r"(?:s\b|sec|second)",
            text,
        ) or re.search(_NUM + r"\s*(?:rps|qps)\b", text):
            spec.requests_per_s = _num(r.group(1))
        if r := re.search(_NUM + r"\s*(?:requests?|queries)\s*(?:/|per|a)\s*min", text):
            spec.requests_per_s = _num(r.group(1)) / 60
        if r := re.search(
            _NUM + _SCALE + r"\s*(?:output\s*)?(?:tokens?|tok)\s*(?:/|per)\s*"
            r"(?:s\b|sec|second)",
            text,
        ):
            spec.tokens_per_s = _scaled(r.group(1), r.group(2))
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


def spec_from_history(router: Router, questions: list[str]) -> WorkloadSpec:
    """Replay earlier user questions in order: each follow-up refines the spec."""
    spec = WorkloadSpec()
    for q in questions:
        spec = spec.merged(router.route(q))
    return spec
