"""Optional: let a tool-calling model choose the calculators (LangChain tool calling).

The tool schemas are generated from the calculators' signatures and docstrings, never written
twice. The deterministic router stays the default (``ADVISOR_LLM_TOOL_CALLING=false``) and the
fallback: when the model picks no tool, an unknown tool, or arguments a calculator rejects,
the router's plan is used instead.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from advisor.dispatch import TOOL_FUNCS
from advisor.tools.registry import CALCULATORS

MODEL_TOOLS = tuple(n for n, c in CALCULATORS.items() if c.model_callable)

TOOL_SYSTEM_PROMPT = (
    "You help size and price AI infrastructure. Call the calculator tools that answer the "
    "question, with arguments taken from the question. Do not compute anything yourself."
)


def simple_type(annotation: Any) -> Any:
    """ModelRef and other unions become str; Optional[X] stays Optional; lists hold str."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        inner = simple_type(args[0]) if len(args) == 1 else str
        return typing.Optional[inner] if optional else inner  # noqa: UP045
    if origin is list:
        return list[str]
    return annotation if annotation in (str, int, float, bool) else str


def tool_parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    """A calculator's parameters as keyword-only, with simple annotations, minus ``catalog``.

    Shared by the CLI (``advisor calc``) and the LLM tool schemas, so neither restates them.
    """
    hints = typing.get_type_hints(func)
    return [
        p.replace(
            kind=inspect.Parameter.KEYWORD_ONLY, annotation=simple_type(hints.get(p.name, str))
        )
        for p in inspect.signature(func).parameters.values()
        if p.name != "catalog" and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


def _schema_function(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    params = tool_parameters(func)

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
