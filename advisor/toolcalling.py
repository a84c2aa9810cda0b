"""Optional: let a tool-calling model choose the calculators (LangChain tool calling).

The tool schemas are generated from the calculators' signatures and docstrings, never written
twice. The deterministic router stays the default (``ADVISOR_LLM_TOOL_CALLING=false``) and the
fallback: when the model picks no tool, an unknown tool, or arguments a calculator rejects,
the router's plan is used instead.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from advisor.dispatch import TOOL_FUNCS

MODEL_TOOLS = (
    "inference_memory",
    "training_estimate",
    "training_memory",
    "serving_estimate",
    "compare_options",
    "break_even",
    "job_cost",
    "cost_per_million_tokens",
    "onprem_tco",
    "storage_estimate",
)

TOOL_SYSTEM_PROMPT = (
    "You help size and price AI infrastructure. Call the calculator tools that answer the "
    "question, with arguments taken from the question. Do not compute anything yourself."
)


def _simple(annotation: Any) -> Any:
    """ModelRef and other unions become str; Optional[X] stays Optional."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        inner = _simple(args[0]) if len(args) == 1 else str
        return typing.Optional[inner] if optional else inner  # noqa: UP045
    if origin is list:
        return list[str]
    return annotation if annotation in (str, int, float, bool) else str


def _schema_function(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    sig = inspect.signature(func)
    hints = typing.get_type_hints(func)
    params = []
    for p in sig.parameters.values():
        if p.name == "catalog" or p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        params.append(
            p.replace(
                kind=inspect.Parameter.KEYWORD_ONLY, annotation=_simple(hints.get(p.name, str))
            )
        )

    def call(**kwargs: Any) -> str:
        return str(func(**kwargs).summary())

    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": str}
    call.__name__ = name
    doc = inspect.getdoc(func) or name
    call.__doc__ = doc.split("\n\n")[0]
    return call


def langchain_tools() -> list[Any]:
    from langchain_core.tools import StructuredTool

    return [
        StructuredTool.from_function(
            func=_schema_function(n, TOOL_FUNCS[n]),
            name=n,
            description=(inspect.getdoc(TOOL_FUNCS[n]) or n).split("\n\n")[0],
        )
        for n in MODEL_TOOLS
    ]


def choose_tools(chat_model: Any, question: str) -> list[tuple[str, dict[str, Any]]]:
    """Ask a tool-calling chat model which calculators to run: [(tool name, arguments)]."""
    from langchain_core.messages import HumanMessage, SystemMessage

    bound = chat_model.bind_tools(langchain_tools())
    message = bound.invoke([SystemMessage(TOOL_SYSTEM_PROMPT), HumanMessage(question)])
    calls = getattr(message, "tool_calls", None) or []
    return [(c["name"], dict(c.get("args") or {})) for c in calls if c.get("name") in MODEL_TOOLS]
