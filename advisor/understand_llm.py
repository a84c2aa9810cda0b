"""The second route to understanding: a language model fills the same slots, the rules check it.

With ``ADVISOR_LLM_UNDERSTANDING=true`` and an OpenAI-compatible backend that supports
structured output (tool calling), the model is asked for a :class:`SituationDraft` of the
question. The draft is validated by pydantic, every name in it is resolved through the
catalogs (an unknown or ambiguous name is dropped, never replaced by a close one), and it only
fills slots the rules left empty: the rules stay the authority and the fallback.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from advisor.errors import AdvisorError
from advisor.route import WorkloadSpec
from advisor.tools.catalog import Catalog
from advisor.tools.quant import weight_format
from advisor.understand import QuestionKind, Workload

SYSTEM = (
    "Read the user's question about running AI models and fill in only what it states: the "
    "kind of question, the model, the hardware they have, the precision, the context length, "
    "the workload and the engine. Leave a field empty when the question does not say it. "
    "Do not compute anything."
)


class SituationDraft(BaseModel):
    """What a question says about the user's situation; empty where it says nothing."""

    kind: QuestionKind | None = Field(default=None, description="the kind of question")
    model: str | None = Field(default=None, description="model name as written, with size")
    params_b: float | None = Field(default=None, gt=0, le=10000, description="billions")
    accelerator: str | None = Field(default=None, description="GPU/accelerator as named")
    num_accelerators: int | None = Field(default=None, ge=1, le=4096)
    device_memory_gb: float | None = Field(default=None, gt=0, le=4096)
    system_ram_gb: float | None = Field(default=None, gt=0, le=65536)
    unified_memory_gb: float | None = Field(default=None, gt=0, le=4096)
    cpu_only: bool | None = None
    dtype: str | None = Field(default=None, description="weight format, e.g. Q4_K_M, AWQ, fp8")
    kv_dtype: str | None = None
    context_tokens: int | None = Field(default=None, ge=128, le=10_000_000)
    workload: Workload | None = None
    engine: str | None = None


def read_with_llm(chat_model: Any, question: str) -> SituationDraft:
    """Ask a structured-output chat model for the draft (raises on a failed or invalid reply)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    # function calling: served by vLLM, llama.cpp server and Ollama alike
    structured = chat_model.with_structured_output(SituationDraft, method="function_calling")
    reply = structured.invoke([SystemMessage(SYSTEM), HumanMessage(question)])
    if isinstance(reply, SituationDraft):
        return reply
    return SituationDraft.model_validate(reply)


def merge_draft(spec: WorkloadSpec, draft: SituationDraft, cat: Catalog) -> list[str]:
    """Fill the slots the rules left empty from ``draft``; return what was taken, for display."""
    taken: list[str] = []

    def fill(slot: str, value: Any) -> None:
        if value is not None and getattr(spec, slot) is None:
            setattr(spec, slot, value)
            taken.append(f"{slot}={value}")

    # an unknown or ambiguous name is dropped: never swap in a close one
    if draft.model and spec.model is None and spec.params_b is None:
        with contextlib.suppress(AdvisorError):
            fill("model", cat.model(draft.model).id)
    if spec.model is None:
        fill("params_b", draft.params_b)
    if draft.accelerator and spec.accelerator is None:
        with contextlib.suppress(AdvisorError):
            fill("accelerator", cat.accelerator(draft.accelerator).id)
    if draft.dtype and spec.dtype is None:
        fmt = weight_format(draft.dtype)
        fill("dtype", fmt.key if fmt else None)
    if draft.kv_dtype and spec.kv_dtype is None:
        fmt = weight_format(draft.kv_dtype)
        fill("kv_dtype", fmt.key if fmt else None)
    for slot in (
        "kind",
        "num_accelerators",
        "device_memory_gb",
        "system_ram_gb",
        "unified_memory_gb",
        "cpu_only",
        "context_tokens",
        "workload",
    ):
        fill(slot, getattr(draft, slot))
    if draft.engine:
        fill("engine", draft.engine.strip().lower())
    return taken


def understand_with_llm(
    chat_model: Any, question: str, spec: WorkloadSpec, cat: Catalog
) -> tuple[WorkloadSpec, list[str], str | None]:
    """(spec with the model's readings merged, what was taken, a warning or None)."""
    try:
        draft = read_with_llm(chat_model, question)
    except (ValidationError, ValueError) as exc:
        kind = exc.__class__.__name__
        return spec, [], f"The model's reading was invalid ({kind}); the rules' reading was used."
    except Exception as exc:  # noqa: BLE001 - any model/server failure: the rules stand
        return spec, [], f"The model could not read the question ({exc}); the rules were used."
    merged = spec.model_copy(deep=True)
    taken = merge_draft(merged, draft, cat)
    return merged, taken, None
