"""Questions people really asked in public, scored against a confirming answer.

Each case in ``real_questions.yaml`` holds the user's own words, the thread's URL, the facts of
a maintainer reply or primary source, and what a correct answer must show: the situation read
from the question (hardware, model, precision, workload, engine), the verdict for fit
questions, figures within a tolerance, and key phrases. A case passes only if every check
holds and the advisor neither asked a needless clarifying question nor declined.

The set was split once into ``dev`` (tuned on) and ``heldout`` (never tuned on); the split is
stored in the file and reported side by side.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from advisor.tools.catalog import Catalog, _norm
from advisor.tools.models import normalize_dtype, parse_param_count
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor import understand
from advisor.errors import AdvisorError
from advisor.understand import QuestionKind, Workload

Kind = QuestionKind
Quantity = Literal[
    "weights_gb",
    "memory_gb",
    "kv_cache_gb",
    "decode_tokens_per_s",
    "prefill_tokens_per_s",
    "gpus",
    "training_hours",
    "cost_usd",
]
# Which tool values may carry each expected quantity.
QUANTITY_KEYS: dict[str, tuple[str, ...]] = {
    "weights_gb": ("weights_gb",),
    "memory_gb": ("memory_gb", "total_gb", "per_device_gb"),
    "kv_cache_gb": ("kv_cache_gb",),
    "decode_tokens_per_s": ("decode_tokens_per_s", "tokens_per_s_per_stream"),
    "prefill_tokens_per_s": ("prefill_tokens_per_s",),
    "gpus": ("min_accelerators", "accelerators_needed", "gpus", "num_accelerators", "replicas"),
    "training_hours": ("wall_clock_hours", "wall_clock_days", "gpu_hours"),
    "cost_usd": ("total_cost_usd", "cost_usd", "job_cost_usd", "monthly_usd"),
}


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    by: str
    facts: str


class Situation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hardware: str | None = None
    count: int | None = None
    memory_gb: float | None = None
    system_ram_gb: float | None = None
    unified_memory_gb: float | None = None
    cpu_only: bool | None = None
    model: str | None = None
    precision: str | None = None
    context_tokens: int | None = None
    # the product's vocabulary: a free-text workload could never match, a check that cannot pass
    workload: Workload | None = None
    engine: str | None = None
    provider: str | None = None
    region: str | None = None


class NumberExpect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Quantity
    value: float
    rel_tol: float = Field(default=0.3, gt=0, le=1)


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    situation: Situation = Field(default_factory=Situation)
    verdict: Literal["yes", "no", "yes_with_changes"] | None = None
    numbers: list[NumberExpect] = Field(default_factory=list)
    must_include: list[list[str]] = Field(default_factory=list)


class RealCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    split: Literal["dev", "heldout"]
    url: str
    asked: str | None = None
    question: str
    confirmation: Confirmation
    expect: Expect


class RealSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int
    cases: list[RealCase]


def load_real_set(path: Path | None = None) -> RealSet:
    p = path or Path(str(resources.files("advisor.evals").joinpath("real_questions.yaml")))
    try:
        return RealSet.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AdvisorError(f"{p}: not a valid real-questions set: {exc}") from exc


@dataclass
class RealResult:
    id: str
    split: str
    kind: str
    system: str
    passed: bool
    kind_ok: bool
    failures: list[str] = field(default_factory=list)
    latency_s: float = 0.0
    read_as: str = ""  # the kind the advisor read the question as


# -- checks -------------------------------------------------------------------------------
def _accelerator_id(cat: Catalog, name: str, memory_gb: float | None = None) -> str | None:
    """The catalog id of an expected device; a product sold in several memory sizes ("RTX
    5060 Ti") is the variant with the memory the case states, else its largest."""
    try:
        return cat.accelerator(name).id
    except AdvisorError:
        pass
    tpu = understand.tpu_slice(name)
    if tpu is not None:  # "TPU v3-8": a slice of the catalogued TPU v3
        try:
            return cat.accelerator(tpu[0]).id
        except AdvisorError:
            return None
    want = _norm(name)
    variants = [
        a
        for a in cat.accelerators
        if any(re.fullmatch(re.escape(want) + r"\d+gb?", _norm(k)) for k in (a.id, a.name))
    ]
    if not variants:
        return None
    sized = [a for a in variants if memory_gb is not None and a.memory_gb == memory_gb]
    return (sized or sorted(variants, key=lambda a: -a.memory_gb))[0].id


def _model_params(cat: Catalog, name: str) -> tuple[str | None, float | None]:
    """(catalog id, parameter count in billions) for an expected model name."""
    try:
        row = cat.model(name)
        return row.id, row.params_b
    except AdvisorError:
        pass
    for token in name.replace(":", " ").replace("-", " ").split():
        size = parse_param_count(token)
        if size is not None and token[-1:].lower() in ("b", "m"):
            return None, size
    return None, None


def _check_hardware(hw: str, spec: Any, cat: Catalog, memory_gb: float | None = None) -> list[str]:
    """The device (or one of the devices compared, "A100 vs H100"), or the cloud instance."""
    if m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*GB\s+(?:GPU|card)s?\s*", hw, re.I):
        # a card known only by its memory ("24 GB GPU"): what matters is that memory
        have = spec.device_memory_gb
        if have is None and spec.accelerator:
            have = cat.accelerator(spec.accelerator).memory_gb
        if have is None or not math.isclose(have, float(m.group(1)), rel_tol=0.1):
            return [f"device memory: read {have!r}, expected {m.group(1)}"]
        return []
    parts = [p for p in re.split(r"\s+(?:vs\.?|versus|or|and|/|\+)\s+", hw) if p.strip()]
    # "2x RTX 3090 vs 1x RTX 4090": the counts are judged apart from the names
    parts = [re.sub(r"^\s*\d+\s*[x×*]\s*", "", p) for p in parts]
    wanted = [(p, _accelerator_id(cat, p, memory_gb)) for p in parts]
    known = [(p, w) for p, w in wanted if w is not None]
    if not known:
        try:
            inst = cat.instance(None, hw)
        except AdvisorError:
            # a VM series ("NCv3", "NC series", "ND H100 v5"): judged by the series' GPU
            series = _norm(re.sub(r"[\s-]*series\s*$", "", hw, flags=re.I))
            gpus = {i.accelerator for i in cat.instances if i.family and _norm(i.family) == series}
            if not gpus - {None}:
                return [f"hardware {hw!r} unknown to the catalog"]
            if spec.accelerator in gpus:
                return []
            return [f"hardware: read {spec.accelerator!r}, expected the {hw} GPU {sorted(gpus)}"]
        if spec.instance != inst.name:
            return [f"instance: read {spec.instance!r}, expected {inst.name!r}"]
        return []
    if any(spec.accelerator == w or _same_part(cat, p, spec.accelerator) for p, w in known):
        return []
    return [f"hardware: read {spec.accelerator!r}, expected {known[0][1]!r}"]


def _same_part(cat: Catalog, named: str, read: str | None) -> bool:
    """A memory variant of the named part counts ("V100" read as the catalogued V100 16GB)."""
    if read is None:
        return False
    row = cat.accelerator(read)
    want = _norm(named)
    keys = [_norm(k) for k in (row.id, row.name, *row.aliases)]
    return any(k.startswith(want) and not k[len(want) : len(want) + 1].isdigit() for k in keys)


def _family_stated(model: str, question: str) -> bool:
    """Whether the question names the model's family (its first word), not only a size."""
    word = re.split(r"[^a-z]+", model.lower().strip())[0]
    return bool(word) and word in question.lower()


_SIZE_TOKEN = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*([bm])\b", re.I)


def model_stated(model: str, question: str) -> bool:
    """Whether the question names the expected model at all: its family word or one of its
    sizes ("7B"). "Can the RTX 3050 run this model?" asked on a model's own page states
    neither; the thread's subject is context the advisor never sees, like the engine."""
    if _family_stated(model, question):
        return True
    sizes, asked = _sizes_in(model), _sizes_in(question)
    return bool(sizes & asked)


def _sizes_in(text: str) -> set[float]:
    """Every parameter count written in ``text``, in billions (the catalog's parser)."""
    found = (parse_param_count(n + u) for n, u in _SIZE_TOKEN.findall(text))
    return {v for v in found if v is not None}


_SIZE_LIST = re.compile(r"^(.*?)(\d+(?:\.\d+)?b?(?:/\d+(?:\.\d+)?b?)+)\s*$", re.I)


def expected_models(name: str) -> list[str]:
    """The models an expectation names: "Llama 2 7B/13B/70B" is three, "Llama 3 8B and 70B"
    two (the family carried over), "CodeLlama-7B / deepseek-coder-33B" two; else one."""
    parts = [p.strip() for p in re.split(r"\s+/\s+|\s*&\s*|\s+and\s+", name) if p.strip()]
    out: list[str] = []
    family = ""
    for part in parts:
        if m := _SIZE_LIST.match(part):
            family = m.group(1).strip() or family
            out += [f"{family} {x.rstrip('bB')}B".strip() for x in m.group(2).split("/")]
            continue
        if re.fullmatch(r"\d+(?:\.\d+)?\s*[bm]", part, re.I) and family:
            out.append(f"{family} {part}")  # "... 8B and 70B": the second in the same family
            continue
        out.append(part)
        family = re.sub(r"[\s-]*\d+(?:\.\d+)?\s*[bm]\b.*$", "", part, flags=re.I) or family
    return out or [name]


def _more_specific(cat: Catalog, expected: str, read: str) -> bool:
    """Whether the row read is a version of the less specific name expected ("Mistral-7B"
    and Mistral 7B v0.1); "Llama 2 7B" is not "LLaMA 7B", nor "Qwen2.5-7B" "Qwen2-7B"."""
    row = cat.model(read)
    want = _norm(expected)
    keys = [_norm(k) for k in (row.id, row.name, *row.aliases)]
    return any(k.startswith(want) and len(k) > len(want) and k[len(want)] == "v" for k in keys)


def _model_failure(model: str, spec: Any, cat: Catalog, question: str) -> str | None:
    """Why the advisor's reading of the model is wrong for ``model``; None if it is right."""
    want_id, want_size = _model_params(cat, model)
    got_size = spec.params_b
    if spec.model:
        got_size = cat.model(spec.model).params_b
    if want_id is not None and not _family_stated(model, question):
        # "a 7B model": the question gives the size only, so the size is what is judged
        want_id, want_size = None, cat.model(want_id).params_b
    if want_id is not None:
        if spec.model == want_id or want_id in (spec.other_models or []):
            return None  # sized, or sized beside the first ("7B & 70B")
        if spec.model and _more_specific(cat, model, spec.model):
            return None  # "Mistral-7B" expected, "Mistral-7B-v0.1" read: a version of it
        return f"model: read {spec.model or spec.params_b!r}, expected {want_id!r}"
    if want_size is not None:
        if got_size is None or not math.isclose(got_size, want_size, rel_tol=0.15):
            return f"model size: read {got_size!r}, expected {want_size:g}B"
        return None
    return f"model {model!r} unknown to the catalog"


def _stated(name: str, question: str) -> bool:
    """Whether ``name`` appears in the question (engines are judged only when named there)."""
    return _norm(name) in _norm(question)


def check_situation(expect: Situation, spec: Any, cat: Catalog, question: str = "") -> list[str]:
    """What the advisor read from the question against what the question says.

    The engine and the model are judged only where the question names them: the thread's
    repository (an Ollama issue, a model's page) is context, not something the user said.
    """
    bad: list[str] = []
    hw = expect.hardware
    cpu_named = bool(hw) and (
        str(hw).strip().lower() in ("cpu", "cpu only", "cpu-only")
        # "Intel Core i5", "c5.xlarge"; not "EPYC 9575F + RTX 4090", which has a GPU
        or bool(understand.CPU_PRODUCT_RE.search(str(hw)))
        and not understand.GPU_WORD_RE.search(str(hw))
        and "+" not in str(hw)
    )
    if cpu_named:
        if not spec.cpu_only:
            bad.append("missed: CPU only")
    elif hw:
        bad += _check_hardware(hw, spec, cat, expect.memory_gb)
    if expect.count is not None and (spec.num_accelerators or 1) != expect.count:
        bad.append(f"count: read {spec.num_accelerators!r}, expected {expect.count}")
    if expect.memory_gb is not None:
        have = spec.device_memory_gb
        if have is None and spec.accelerator:
            have = cat.accelerator(spec.accelerator).memory_gb
        if have is None and spec.unified_memory_gb is not None:
            have = spec.unified_memory_gb
        if have is None or not math.isclose(have, expect.memory_gb, rel_tol=0.1):
            bad.append(f"device memory: read {have!r}, expected {expect.memory_gb:g}")
    for key in ("system_ram_gb", "unified_memory_gb"):
        want_v = getattr(expect, key)
        if want_v is not None and getattr(spec, key) != want_v:
            bad.append(f"{key}: read {getattr(spec, key)!r}, expected {want_v:g}")
    if expect.cpu_only and not spec.cpu_only:
        bad.append("missed: CPU only")
    if expect.model and (not question or model_stated(expect.model, question)):
        # several models named ("Llama 2 7B/13B/70B", "Falcon-40B / Llama 2 70B"): reading
        # any of them as the one sized is right; the first failure is reported
        fails = [_model_failure(m, spec, cat, question) for m in expected_models(expect.model)]
        if all(fails):
            bad.append(str(fails[0]))
    if expect.precision:
        try:
            want_p = normalize_dtype(expect.precision)
        except AdvisorError:
            want_p = None
        # "int4" is generic: GPTQ and AWQ checkpoints are 4-bit integer weights too
        same = spec.dtype == want_p or (want_p == "int4" and spec.dtype in ("gptq", "awq"))
        if want_p is not None and not same:
            bad.append(f"precision: read {spec.dtype!r}, expected {want_p!r}")
    if expect.context_tokens is not None:
        got = spec.context_tokens
        if got is None or not math.isclose(got, expect.context_tokens, rel_tol=0.05):
            bad.append(f"context: read {got!r}, expected {expect.context_tokens}")
    if expect.workload and spec.workload != expect.workload:
        bad.append(f"workload: read {spec.workload!r}, expected {expect.workload!r}")
    stated = bool(expect.engine) and _stated(str(expect.engine), question)
    # the engine's canonical name: "exllamav2" is ExLlama, "text-generation-inference" TGI
    want_engine = understand.engine(str(expect.engine)) or str(expect.engine).lower()
    if stated and (spec.engine or "").lower() != want_engine:
        bad.append(f"engine: read {spec.engine!r}, expected {expect.engine!r}")
    if expect.provider and spec.provider != expect.provider.lower():
        bad.append(f"provider: read {spec.provider!r}, expected {expect.provider!r}")
    return bad


def _tool_values(answer: Any, keys: tuple[str, ...]) -> list[float]:
    """Values shown in the answer: tool results and the alternatives they list."""
    out = []
    for call in answer.tool_calls:
        result = call.result or {}
        for alt in result.get("alternatives", []):
            for key in keys:
                v = alt.get("values", {}).get(key)
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out.append(float(v))
        values = result.get("values", {})
        for key in keys:
            q = values.get(key)
            if q is None:
                continue
            v = q.get("value")
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append(float(v) * (24 if key == "wall_clock_days" else 1))
    return out


def check_numbers(expect: list[NumberExpect], answer: Any) -> list[str]:
    bad = []
    for n in expect:
        got = _tool_values(answer, QUANTITY_KEYS[n.quantity])
        if not any(math.isclose(v, n.value, rel_tol=n.rel_tol) for v in got):
            shown = ", ".join(f"{v:.3g}" for v in got[:3]) or "none"
            bad.append(f"{n.quantity}: expected {n.value:g} ±{n.rel_tol:.0%}, got {shown}")
    return bad


def score_real(
    case: RealCase, answer: Any, cat: Catalog, latency: float, system: str
) -> RealResult:
    e = case.expect
    failures: list[str] = []
    if answer.clarification:
        failures.append("asked a clarifying question")
    if not answer.covered:
        failures.append("declined as not covered")
    failures += check_situation(e.situation, answer.spec, cat, case.question)
    if e.verdict is not None and answer.verdict != e.verdict:
        failures.append(f"verdict: {answer.verdict!r}, expected {e.verdict!r}")
    failures += check_numbers(e.numbers, answer)
    low = answer.text.lower()
    for group in e.must_include:
        if not any(alt.lower() in low for alt in group):
            failures.append(f"missing {' | '.join(group)}")
    return RealResult(
        case.id,
        case.split,
        e.kind,
        system,
        not failures,
        answer.spec.kind == e.kind,
        failures,
        latency,
        answer.spec.kind,
    )


@dataclass
class RealSummary:
    system: str
    split: str
    cases: int
    pass_rate: float
    kind_accuracy: float
    by_kind: dict[str, tuple[int, int]]
    failure_reasons: dict[str, int]


def _reason(failure: str) -> str:
    return failure.split(":")[0].split(" '")[0].split(" (")[0]


def summarize_real(system: str, split: str, results: list[RealResult]) -> RealSummary:
    rs = [r for r in results if r.split == split and r.system == system]
    by_kind: dict[str, tuple[int, int]] = {}
    for r in rs:
        ok, total = by_kind.get(r.kind, (0, 0))
        by_kind[r.kind] = (ok + r.passed, total + 1)
    reasons = Counter(_reason(f) for r in rs for f in r.failures)
    return RealSummary(
        system,
        split,
        len(rs),
        sum(r.passed for r in rs) / len(rs) if rs else 0.0,
        sum(r.kind_ok for r in rs) / len(rs) if rs else 0.0,
        dict(sorted(by_kind.items())),
        dict(reasons.most_common()),
    )


def real_lines(summaries: list[RealSummary], results: list[RealResult], data: RealSet) -> list[str]:
    lines = [
        "| system | split | cases | passed | question kind read right |",
        "|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.system} | {s.split} | {s.cases} | {s.pass_rate:.1%} | {s.kind_accuracy:.1%} |"
        )
    lines += ["", "Pass rate by kind (dev / held-out, first system):", ""]
    if summaries:
        first = summaries[0].system
        dev = next((s for s in summaries if s.system == first and s.split == "dev"), None)
        held = next((s for s in summaries if s.system == first and s.split == "heldout"), None)
        kinds = sorted(set((dev.by_kind if dev else {}) | (held.by_kind if held else {})))
        for k in kinds:
            d = dev.by_kind.get(k, (0, 0)) if dev else (0, 0)
            h = held.by_kind.get(k, (0, 0)) if held else (0, 0)
            lines.append(f"- {k}: dev {d[0]}/{d[1]}, held-out {h[0]}/{h[1]}")
        lines += ["", "Most common reasons for a miss (first system, both splits):", ""]
        reasons: Counter[str] = Counter()
        for s in summaries:
            if s.system == first:
                reasons.update(s.failure_reasons)
        lines += [f"- {r}: {n}" for r, n in reasons.most_common(12)]
    by_id = {c.id: c for c in data.cases}
    lines += ["", "### Failures", ""]
    for r in results:
        if r.passed:
            continue
        c = by_id[r.id]
        q = " ".join(c.question.split())
        q = q if len(q) <= 160 else q[:157] + "..."
        lines.append(f'- [{r.system}] {r.id} ({r.split}, {r.kind}) "{q}": ' + "; ".join(r.failures))
    return lines
