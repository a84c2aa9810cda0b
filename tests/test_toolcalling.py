"""Tool calling: a model may choose the calculators; the router stays the fallback.

Runs against a scripted OpenAI-compatible server on 127.0.0.1 (tests/fake_openai.py)."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAIServer

from advisor.config import Settings
from advisor.core import Advisor
from advisor.llm import OpenAICompatible
from advisor.toolcalling import langchain_tools


@pytest.fixture(autouse=True)
def _allow_fake_server(monkeypatch):
    """The autouse blocker stops real models; this server is a local fake, so allow it."""
    from advisor import llm

    monkeypatch.setattr(llm.OpenAICompatible, "chat_model", _real_chat_model)


_real_chat_model = OpenAICompatible.chat_model


def _advisor(real_kb, url: str, tool_calling: bool = True) -> Advisor:
    s = Settings(
        data_dir=real_kb.settings.data_dir,
        llm_backend="openai",
        openai_base_url=url,
        openai_model="fake",
        llm_tool_calling=tool_calling,
    )
    return Advisor(s, real_kb, OpenAICompatible(s))


def test_schemas_come_from_the_signatures():
    tools = {t.name: t for t in langchain_tools()}
    props = tools["inference_memory"].args_schema.model_json_schema()["properties"]
    assert {"model", "dtype", "context_tokens", "accelerator"} <= set(props)
    assert "catalog" not in props
    assert props["context_tokens"]["anyOf"][0]["type"] == "integer"


def test_model_chosen_tools_are_used(real_kb):
    calls = [{"name": "inference_memory", "args": {"model": "llama 3.1 8b", "accelerator": "l4"}}]
    with FakeOpenAIServer(tool_calls=calls) as server:
        ans = _advisor(real_kb, server.url).ask("will my chatbot model fit on the small GPU?")
    assert [c.tool for c in ans.tool_calls] == ["inference_memory"]
    assert ans.tool_calls[0].inputs["accelerator"] == "l4"
    assert any("tool calling" in a for a in ans.assumptions)
    assert any(r.get("tools") for r in server.requests)
    assert ans.short_answer.startswith("Llama 3.1 8B in bf16")


def test_bad_tool_arguments_fall_back_to_the_router(real_kb):
    calls = [{"name": "inference_memory", "args": {"model": "gpt-9 ultra"}}]
    with FakeOpenAIServer(tool_calls=calls) as server:
        ans = _advisor(real_kb, server.url).ask("how much memory does llama 3.1 70b need?")
    assert any("router was used" in w for w in ans.warnings)
    assert ans.tool_calls[0].inputs["model"] == "llama-3.1-70b"


def test_no_tool_call_uses_the_router(real_kb):
    with FakeOpenAIServer(tool_calls=[]) as server:
        ans = _advisor(real_kb, server.url).ask("how much memory does llama 3.1 8b need?")
    assert ans.tool_calls and ans.tool_calls[0].tool == "inference_memory"
    assert not any("tool calling" in a for a in ans.assumptions)


def test_tool_calling_off_by_default(real_kb):
    with FakeOpenAIServer() as server:
        ans = _advisor(real_kb, server.url, tool_calling=False).ask("IB vs RoCE?")
    assert not any(r.get("tools") for r in server.requests)
    assert ans.backend == "openai:fake" and ans.guidance


def test_the_output_limit_is_sent_as_max_tokens(real_kb):
    """Regression (issue 10, deployment): ChatOpenAI sent the limit as
    max_completion_tokens, which llama.cpp's server ignores, so every answer ran to the end
    of the context. The request body carries max_tokens, the field such servers read."""
    with FakeOpenAIServer() as srv:
        advisor = _advisor(real_kb, srv.url, tool_calling=False)
        advisor.ask("IB vs RoCE?")
    phrasing = [r for r in srv.requests if r.get("stream")]
    assert phrasing and all(r["max_tokens"] == advisor.settings.llm_max_tokens for r in phrasing)
    assert not any("max_completion_tokens" in r for r in phrasing)
