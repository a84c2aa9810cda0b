"""Benchmarks that print figures (``advisor bench``); targets are checked by reading them.

Targets (issue #2): catalog load < 200 ms; one calculator call < 1 ms. Issue #13 (cold start,
2 cores): a calculator question from the CLI <= 1.5 s wall and <= 250 MB peak RSS; an
extractive guidance question <= 4 s; full index build of the shipped guides < 10 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    name: str
    runs: int
    p50_ms: float
    p95_ms: float
    target_ms: float | None = None

    @property
    def ok(self) -> bool | None:
        return None if self.target_ms is None else self.p50_ms < self.target_ms


def _time(name: str, fn: Callable[[], Any], runs: int, target_ms: float | None) -> Timing:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    return Timing(name, runs, statistics.median(samples), p95, target_ms)


def bench_tools(runs: int = 200) -> list[Timing]:
    """Cold catalog load (parse + validate every file) and warm per-call time of each tool."""
    from advisor import tools
    from advisor.tools.catalog import clear_cache, load_catalog

    def cold_load() -> None:
        clear_cache()
        load_catalog()

    out = [_time("catalog load (cold, all files)", cold_load, max(5, runs // 20), 200.0)]
    load_catalog()
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("inference_memory", lambda: tools.inference_memory("llama 3.1 70b", accelerator="h100")),
        (
            "training_estimate",
            lambda: tools.training_estimate("llama 3.1 8b", 1e12, "h100", num_accelerators=64),
        ),
        ("training_memory", lambda: tools.training_memory("llama 3.1 8b", method="lora")),
        (
            "serving_estimate",
            lambda: tools.serving_estimate("llama 3.1 8b", "h100", concurrency=32),
        ),
        ("job_cost", lambda: tools.job_cost("aws", "p5", accelerator_hours=1000)),
        (
            "cost_per_million_tokens",
            lambda: tools.cost_per_million_tokens("aws", "p5", tokens_per_s=2000),
        ),
        ("onprem_tco", lambda: tools.onprem_tco("hgx h100")),
        ("storage_estimate", lambda: tools.storage_estimate(dataset_tokens=1e12)),
        ("decide", lambda: tools.decide(utilization=5)),
        ("break_even (bisection, ~100 TCO calls)", lambda: tools.break_even()),
        ("compare_options (all instances)", lambda: tools.compare_options("llama 3.1 70b")),
    ]
    for name, fn in calls:
        target = 1.0 if "(" not in name else None
        out.append(_time(name, fn, runs if target else max(5, runs // 20), target))
    return out


@dataclass(frozen=True)
class ColdStart:
    """One command in a new process: wall time and the process's peak RSS."""

    name: str
    runs: int
    wall_s: float  # median
    peak_rss_mb: float  # largest
    target_s: float | None = None
    target_rss_mb: float | None = None
    ok_exit: bool = True

    @property
    def ok(self) -> bool | None:
        if self.target_s is None and self.target_rss_mb is None:
            return None
        return (
            self.ok_exit
            and (self.target_s is None or self.wall_s <= self.target_s)
            and (self.target_rss_mb is None or self.peak_rss_mb <= self.target_rss_mb)
        )


CALC_QUESTION = "How much memory does Llama 3.1 8B need in bf16?"
GUIDANCE_QUESTION = "IB vs RoCE?"
COLD_COMMANDS: list[tuple[str, list[str], float | None, float | None]] = [
    ("advisor --help", ["--help"], None, None),
    ("advisor catalog list models", ["catalog", "list", "models"], None, None),
    (
        "advisor ask, calculator question (--backend none)",
        ["ask", CALC_QUESTION, "--backend", "none"],
        1.5,
        250.0,
    ),
    (
        "advisor ask, guidance question (--backend none)",
        ["ask", GUIDANCE_QUESTION, "--backend", "none"],
        4.0,
        None,
    ),
    (
        "advisor ask, guidance question (--backend local)",
        ["ask", GUIDANCE_QUESTION, "--backend", "local"],
        None,
        None,
    ),
]


def run_cold(args: list[str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, exit status) of ``advisor ARGS`` in a new Python process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def bench_cold(runs: int = 3, local: bool = True) -> list[ColdStart]:
    """Each command once to warm the file cache and the index's read cache, then ``runs``
    times in a new process (median wall time, largest peak RSS)."""
    out = []
    for name, args, target_s, target_mb in COLD_COMMANDS:
        if "local" in args and not local:
            continue
        run_cold(args)
        samples = [run_cold(args) for _ in range(runs)]
        out.append(
            ColdStart(
                name,
                runs,
                statistics.median(s[0] for s in samples),
                max(s[1] for s in samples),
                target_s,
                target_mb,
                all(s[2] == 0 for s in samples),
            )
        )
    return out


def bench_retrieval(runs: int = 50, scratch: bool = True) -> tuple[list[Timing], dict[str, float]]:
    """Full index build into a fresh folder (shipped vectors, as `advisor index` does), warm
    query latency and peak memory (RSS); then, with ``scratch``, a full build that embeds
    every chunk (torch), to show what the shipped vectors save."""
    import resource
    import tempfile
    from pathlib import Path

    from advisor.config import Settings
    from advisor.embeddings import SentenceTransformerEmbedder
    from advisor.evals.retrieval import load_set
    from advisor.kb import KnowledgeBase

    facts: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "shipped")
        start, cpu = time.perf_counter(), time.process_time()
        kb = KnowledgeBase.from_settings(settings)
        report = kb.build()
        facts["index_build_s"] = time.perf_counter() - start
        facts["index_build_cpu_s"] = time.process_time() - cpu
        facts["chunks"] = report.chunks
        facts["chunks_embedded"] = report.sync.chunks_embedded
        for key, seconds in report.sync.timings.items():
            facts[f"build {key} s"] = seconds
        start = time.perf_counter()
        kb.build()
        facts["noop_reindex_s"] = time.perf_counter() - start
        # queries as a new process runs them: read cache, NumPy query encoder, no torch
        start = time.perf_counter()
        fresh = KnowledgeBase.from_settings(settings)
        questions = [c.question for c in load_set().questions]
        fresh.search(questions[0])
        facts["first_query_s"] = time.perf_counter() - start
        i = iter(range(10**9))
        timing = _time(
            "hybrid query (warm, NumPy query encoder)",
            lambda: fresh.search(questions[next(i) % len(questions)]),
            runs,
            50.0,
        )
        facts["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if scratch:
            start = time.perf_counter()
            embedder = SentenceTransformerEmbedder(settings.embedding_model, device=settings.device)
            embedder.load_torch()
            facts["model_load_s"] = time.perf_counter() - start
            own = settings.model_copy(update={"data_dir": Path(tmp) / "scratch"})
            start = time.perf_counter()
            built = KnowledgeBase(own, embedder, shipped=None).build()
            facts["scratch_build_s"] = time.perf_counter() - start
            facts["scratch_embed_s"] = built.sync.timings.get("embed", 0.0)
            facts["scratch_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [timing], facts


ANSWER_QUESTIONS = [
    "IB vs RoCE?",
    "is HBM why H100s are fast?",
    "can I leave Bedrock later?",
    "how many L4s to serve Llama 3 8B at 20 requests/s?",
    "what does 3 years of 8xH100 cost bought vs rented?",
    "how much memory does llama 3.1 70b need at 32k context in fp8?",
    "when should I use spot instances for training?",
    "what is a TPU pod?",
    "train a 7B model on 2T tokens in 3 weeks, how many H100s?",
    "how do I keep GPUs fed with data during training?",
    "what is confidential computing for AI?",
    "cheapest way to serve qwen3 32b in europe",
]


def bench_answers(backend: str = "local", runs: int = 1) -> tuple[list[Timing], dict[str, float]]:
    """End-to-end answers: tool-only, full answers, first streamed text, cold start, RSS."""
    import resource

    from advisor.config import Settings
    from advisor.core import Advisor

    facts: dict[str, float] = {}
    # the same command and runs as `advisor bench cold`: 3 new processes, the file cache warm
    args = ["ask", GUIDANCE_QUESTION, "--backend", backend]
    run_cold(args)
    colds = [run_cold(args) for _ in range(3)]
    facts["cold_ask_s"] = statistics.median(c[0] for c in colds)
    facts["cold_ask_min_s"] = min(c[0] for c in colds)
    facts["cold_ask_max_s"] = max(c[0] for c in colds)
    facts["cold_ask_ok"] = float(all(c[2] == 0 for c in colds))
    advisor = Advisor.from_settings(Settings(llm_backend=backend))  # type: ignore[arg-type]
    advisor.ask("warm up the models")
    tool_only = Advisor.from_settings(Settings(llm_backend="none"))
    tool_only.ask("warm up")
    out = [
        _time(
            "tool question, no LLM (serve Llama 3 8B on L4 at 20 req/s)",
            lambda: tool_only.ask("how many L4s to serve Llama 3 8B at 20 requests/s?"),
            20,
            300.0,
        )
    ]
    totals, firsts = [], []
    for _ in range(runs):
        for q in ANSWER_QUESTIONS:
            t0 = time.perf_counter()
            first = None
            for item in advisor.stream(q):
                if first is None and isinstance(item, str):
                    first = time.perf_counter() - t0
            totals.append((time.perf_counter() - t0) * 1000)
            firsts.append((first or 0) * 1000)
    totals.sort()
    firsts.sort()
    p95 = totals[min(len(totals) - 1, int(0.95 * len(totals)))]
    out.append(
        Timing(
            f"full answer ({backend}), API (Advisor.stream)",
            len(totals),
            statistics.median(totals),
            p95,
            5000.0,
        )
    )
    out.append(
        Timing(
            "first streamed text, API",
            len(firsts),
            statistics.median(firsts),
            firsts[min(len(firsts) - 1, int(0.95 * len(firsts)))],
            1500.0,
        )
    )
    out += bench_first_verdict(advisor, runs=max(3, runs * 3))
    out += bench_llm_phases(advisor, runs=runs)
    facts["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # a second Advisor, warmed up the same way: the first one's caches (query vectors, the
    # verifier's passage sentences) would make the UI's pass over the same questions faster
    del advisor
    for_ui = Advisor.from_settings(Settings(llm_backend=backend))  # type: ignore[arg-type]
    for_ui.ask("warm up the models")
    out += bench_ui_answers(for_ui, runs=runs)
    return out, facts


def bench_ui_answers(advisor: Any, runs: int = 1) -> list[Timing]:
    """The full answers of ``ANSWER_QUESTIONS`` through the chat's handler, as the web app
    shows them: every streamed update, then the final message with its calculator tables,
    sources and plot. Also the first update with text (the verdict). The handler is called
    directly, without a browser or Gradio's queue."""
    from advisor.ui import handlers, plots

    backend = advisor.settings.llm_backend if advisor.llm is not None else "none"
    firsts, totals = [], []
    for _ in range(runs):
        for q in ANSWER_QUESTIONS:
            t0 = time.perf_counter()
            first: float | None = None
            figure = None
            for update in handlers.respond(advisor, q, [], []):
                if first is None:
                    first = time.perf_counter() - t0
                figure = update[2]
            totals.append((time.perf_counter() - t0) * 1000)
            firsts.append((first or 0.0) * 1000)
            plots.close(figure)
    return [
        _timing(f"full answer ({backend}), UI handler", totals, 5000.0),
        _timing("first text, UI handler", firsts, 300.0),
    ]


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_llm_phases(advisor: Any, runs: int = 1) -> list[Timing]:
    """The language model's two phases on the guidance prompts the answers use: prompt
    processing (the wait for the first streamed token) and generation (ms per later token).
    Nothing to measure without a model."""
    if advisor.llm is None:
        return []
    prompt_ms: list[float] = []
    per_token_ms: list[float] = []
    for _ in range(runs):
        for q in ANSWER_QUESTIONS:
            passages = advisor.kb.search(q, advisor.settings.retrieval_k).passages
            messages = advisor._prompt(q, passages, [])
            t0 = time.perf_counter()
            first: float | None = None
            n = 0
            for _delta in advisor.llm.stream(messages, advisor.settings.llm_max_tokens):
                n += 1
                if first is None:
                    first = time.perf_counter()
            end = time.perf_counter()
            if first is None:
                continue
            prompt_ms.append((first - t0) * 1000)
            if n > 1:
                per_token_ms.append((end - first) * 1000 / (n - 1))
    out = []
    if prompt_ms:
        out.append(
            Timing(
                f"{advisor.settings.llm_backend} model: prompt processing (to first token)",
                len(prompt_ms),
                statistics.median(prompt_ms),
                _pct(prompt_ms, 0.95),
            )
        )
    if per_token_ms:
        out.append(
            Timing(
                f"{advisor.settings.llm_backend} model: generation, per token after the first",
                len(per_token_ms),
                statistics.median(per_token_ms),
                _pct(per_token_ms, 0.95),
            )
        )
    return out


# Questions in the words people use (not from the eval sets): fit, speed, troubleshooting.
VERDICT_QUESTIONS = (
    "I have two RTX 3090s and 64 GB of RAM, can I run Llama 3.1 70B at Q4_K_M?",
    "getting 4 tok/s with llama 3.1 8b q8_0 on cpu only, 32gb ddr4, is that normal?",
    "can my macbook pro m3 max 36gb run mixtral?",
    "why does vllm run out of memory loading qwen2.5 14b on a 24GB card?",
    "what's the difference between prefill and decode?",
)


def bench_first_verdict(advisor: Any, runs: int = 3) -> list[Timing]:
    """Time to the verdict: the first streamed chunk through the API, and the first UI update
    whose verdict panel is filled (target 300 ms each)."""
    api, ui = [], []
    from advisor.ui import handlers

    for _ in range(runs):
        for q in VERDICT_QUESTIONS:
            t0 = time.perf_counter()
            for item in advisor.stream(q):
                if getattr(item, "part", None) == "verdict":
                    api.append((time.perf_counter() - t0) * 1000)
                    break
            t0 = time.perf_counter()
            for update in handlers.respond(advisor, q, [], []):
                if update[-1] != handlers.VERDICT_PLACEHOLDER:
                    ui.append((time.perf_counter() - t0) * 1000)
                    break
    return [
        _timing("first verdict text, API (Advisor.stream)", api, 300.0),
        _timing("first verdict text, UI handler", ui, 300.0),
    ]


def _timing(name: str, samples: list[float], target_ms: float | None) -> Timing:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))] if samples else 0.0
    return Timing(
        name, len(samples), statistics.median(samples) if samples else 0.0, p95, target_ms
    )
