"""The local model loads in the background while the question is searched (issue 13)."""

from __future__ import annotations

import sys
import threading
import types

import pytest
from fakes import ScriptedLLM

from advisor.config import Settings
from advisor.core import Advisor
from advisor.llm import LocalLlamaCpp

# the real loader, taken before the autouse fixture blocks it; these tests give it a fake
# llama_cpp module, so no real model runs
_REAL_MODEL = LocalLlamaCpp._model


class PreloadingLLM(ScriptedLLM):
    """A scripted backend that records when it was asked to start loading."""

    def __init__(self, events: list[str], *replies: str) -> None:
        super().__init__(*replies)
        self.events = events

    def start_loading(self) -> None:
        self.events.append("start loading")


def test_the_model_starts_loading_before_the_question_is_searched(real_kb, monkeypatch):
    events: list[str] = []
    search = real_kb.search

    def recorded_search(*args, **kwargs):
        events.append("search")
        return search(*args, **kwargs)

    monkeypatch.setattr(real_kb, "search", recorded_search)
    llm = PreloadingLLM(events, "InfiniBand is lossless by design and NVIDIA-dominated [1].")
    settings = Settings(data_dir=real_kb.settings.data_dir, llm_backend="none")
    ans = Advisor(settings, real_kb, llm).ask("IB vs RoCE?")
    assert events[:2] == ["start loading", "search"]
    assert llm.prompts  # the model still wrote the guidance
    assert "lossless" in " ".join(ans.guidance)


class _GatedLlama:
    """Stands in for llama_cpp.Llama: construction waits for the test to open the gate."""

    gate = threading.Event()
    constructing = threading.Event()
    threads: list[str] = []
    fail_first = False

    def __init__(self, **kwargs) -> None:
        _GatedLlama.threads.append(threading.current_thread().name)
        _GatedLlama.constructing.set()
        assert _GatedLlama.gate.wait(60)  # generous: a loaded CI machine is slow
        if _GatedLlama.fail_first and len(_GatedLlama.threads) == 1:
            raise ValueError("failed to load model (fake)")

    def create_chat_completion(self, **kwargs):
        for piece in ("RoCE ", "needs ", "tuning."):
            yield {"choices": [{"delta": {"content": piece}}]}


@pytest.fixture
def gated_llama(monkeypatch, tmp_path):
    # A background load left running by an earlier test (an Advisor built with the local
    # backend) would construct its model through the fakes patched below, under the same
    # thread name: wait for any such thread first, so that each test sees only its own.
    for t in threading.enumerate():
        if t.name == "llm-load" and t is not threading.current_thread():
            t.join(120)
    monkeypatch.setattr(LocalLlamaCpp, "_model", _REAL_MODEL)
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=_GatedLlama))
    _GatedLlama.gate = threading.Event()
    _GatedLlama.constructing = threading.Event()
    _GatedLlama.threads = []
    _GatedLlama.fail_first = False
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    llm = LocalLlamaCpp(Settings(data_dir=tmp_path, llm_model_path=gguf))
    yield llm
    _GatedLlama.gate.set()  # never leave a loader thread waiting


def test_local_model_loads_once_in_the_background_and_the_stream_waits(gated_llama):
    gated_llama.start_loading()
    gated_llama.start_loading()  # a second call starts nothing
    assert _GatedLlama.constructing.wait(10)
    assert _GatedLlama.threads == ["llm-load"]  # off the caller's thread
    got: list[str] = []
    streamer = threading.Thread(target=lambda: got.extend(gated_llama.stream([], 16)))
    streamer.start()
    streamer.join(0.2)
    assert streamer.is_alive() and got == []  # waiting for the load, not loading again
    _GatedLlama.gate.set()
    streamer.join(10)
    assert "".join(got) == "RoCE needs tuning."
    # one load, in the background; the stream loads again only when that load failed (which
    # the previous test covers), and then says why
    err = gated_llama.background_error
    assert _GatedLlama.threads == (["llm-load"] if err is None else ["llm-load", streamer.name]), (
        f"background load error: {err!r}"
    )
    gated_llama.start_loading()  # already loaded: nothing to do
    assert len(_GatedLlama.threads) == (1 if err is None else 2)


def test_a_failed_background_load_is_tried_again_by_the_stream(gated_llama):
    _GatedLlama.fail_first = True
    _GatedLlama.gate.set()
    gated_llama.start_loading()
    assert _GatedLlama.constructing.wait(10)  # the background load has the lock and fails
    assert "".join(gated_llama.stream([], 16)) == "RoCE needs tuning."
    assert _GatedLlama.threads[0] == "llm-load"
    assert len(_GatedLlama.threads) == 2
    assert isinstance(gated_llama.background_error, ValueError)
