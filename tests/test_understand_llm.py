"""The model route to understanding, against a scripted OpenAI-compatible server on 127.0.0.1:
it fills only what the rules left empty, and its names go through the catalog lookups."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAIServer

from advisor.config import Settings
from advisor.core import Advisor
from advisor.llm import OpenAICompatible
from advisor.route import WorkloadSpec
from advisor.understand_llm import SituationDraft, merge_draft

_real_chat_model = OpenAICompatible.chat_model


@pytest.fixture(autouse=True)
def _allow_fake_server(monkeypatch):
    """The autouse blocker stops real models; this server is a local fake, so allow it."""
    from advisor import llm

    monkeypatch.setattr(llm.OpenAICompatible, "chat_model", _real_chat_model)


def test_draft_fills_only_empty_slots_and_never_substitutes(catalog):
    spec = WorkloadSpec(dtype="q4_k_m", kind="fit")
    draft = SituationDraft(
        kind="speed",
        model="llama 3.1 8b",
        accelerator="h20",
        dtype="fp8",
        system_ram_gb=64,
        engine="Ollama",
    )
    taken = merge_draft(spec, draft, catalog)
    assert spec.kind == "fit" and spec.dtype == "q4_k_m"  # the rules' readings stand
    assert spec.model == "llama-3.1-8b" and spec.accelerator == "h20"
    assert spec.system_ram_gb == 64 and spec.engine == "ollama"
    assert "model=llama-3.1-8b" in taken


def test_unknown_names_from_the_model_are_dropped(catalog):
    spec = WorkloadSpec()
    merge_draft(spec, SituationDraft(model="llama 9 900b", accelerator="h2"), catalog)
    assert spec.model is None and spec.accelerator is None


def _advisor(real_kb, url: str) -> Advisor:
    s = Settings(
        data_dir=real_kb.settings.data_dir,
        llm_backend="openai",
        openai_base_url=url,
        openai_model="fake",
        llm_understanding=True,
    )
    return Advisor(s, real_kb, OpenAICompatible(s))


def test_model_reading_reaches_the_calculators(real_kb):
    # the rules cannot read "twenty-four gigs"; the model can, and the answer uses it
    args = {"device_memory_gb": 24, "model": "llama 3.1 8b", "kind": "fit", "dtype": "Q4_K_M"}
    with FakeOpenAIServer(tool_calls=[{"name": "SituationDraft", "args": args}]) as srv:
        ans = _advisor(real_kb, srv.url).ask("can my card with twenty-four gigs run it?")
    assert ans.spec.device_memory_gb == 24 and ans.spec.model == "llama-3.1-8b"
    assert ans.tool_calls and ans.tool_calls[0].tool == "run_on_hardware"
    assert ans.verdict == "yes"


def test_invalid_reading_falls_back_to_the_rules(real_kb):
    bad = {"device_memory_gb": -3}
    with FakeOpenAIServer(tool_calls=[{"name": "SituationDraft", "args": bad}]) as srv:
        ans = _advisor(real_kb, srv.url).ask("can I run llama 3.1 8b on an rtx 3090?")
    assert ans.spec.accelerator == "rtx-3090" and ans.spec.device_memory_gb is None
    assert any("rules" in w for w in ans.warnings)
