"""Integration: the real embedded model (llama.cpp + SmolLM2-135M) and a real
OpenAI-compatible server (llama-cpp-python's own, on 127.0.0.1) serving the same GGUF."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from advisor.config import Settings
from advisor.core import Advisor, Answer
from advisor.llm import LocalLlamaCpp, OpenAICompatible, packaged_gguf
from advisor.verify import number_supported, numbers_in

pytestmark = [pytest.mark.llm, pytest.mark.integration]


def _numbers_are_grounded(ans: Answer, advisor: Advisor) -> None:
    """Every number in the shown guidance appears in a cited passage or a tool result."""
    allowed = numbers_in(ans.question)
    for call in ans.tool_calls:
        if call.markdown:
            allowed += numbers_in(call.markdown)
    passages = {p.chunk_id: p.text for p in advisor.kb.search(ans.question).passages}
    for c in ans.citations:
        allowed += numbers_in(passages.get(c.passage_id, ""))
    for sentence in ans.guidance:
        for value in numbers_in(sentence.split("[")[0]):
            assert number_supported(value, allowed), (value, sentence)


@pytest.fixture(scope="module")
def local_advisor(real_kb):
    settings = Settings(data_dir=real_kb.settings.data_dir, llm_backend="local")
    return Advisor(settings, real_kb, LocalLlamaCpp(settings))


@pytest.mark.parametrize(
    "question",
    [
        "IB vs RoCE?",
        "is HBM why H100s are fast?",
        "how many L4s to serve Llama 3 8B at 20 requests/s?",
    ],
)
def test_local_model_answers_are_verified(local_advisor, question):
    ans = local_advisor.ask(question)
    assert ans.backend.startswith("local:") and ans.guidance
    assert ans.guidance_source in ("llm", "extractive", "llm+extractive")
    for g in ans.guidance:
        assert "[" in g  # every shown sentence cites a passage
    assert {c.n for c in ans.citations} <= set(range(1, 6))
    _numbers_are_grounded(ans, local_advisor)


def test_local_model_is_deterministic(local_advisor):
    a = local_advisor.ask("what is a TPU pod?")
    b = local_advisor.ask("what is a TPU pod?")
    assert a.text == b.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def openai_server():
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(packaged_gguf()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("llama_cpp.server did not start")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_openai_compatible_server(real_kb, openai_server):
    settings = Settings(
        data_dir=real_kb.settings.data_dir,
        llm_backend="openai",
        openai_base_url=openai_server,
        openai_model="smollm2",
    )
    advisor = Advisor(settings, real_kb, OpenAICompatible(settings))
    ans = advisor.ask("IB vs RoCE?")
    assert ans.backend == "openai:smollm2"
    assert ans.guidance and not any("unavailable" in w for w in ans.warnings)
    _numbers_are_grounded(ans, advisor)


def test_openai_backend_down_falls_back(real_kb):
    settings = Settings(
        data_dir=real_kb.settings.data_dir,
        llm_backend="openai",
        openai_base_url=f"http://127.0.0.1:{_free_port()}/v1",
        llm_timeout_s=5,
    )
    ans = Advisor(settings, real_kb, OpenAICompatible(settings)).ask("IB vs RoCE?")
    assert any("unavailable" in w for w in ans.warnings)
    assert ans.guidance_source == "extractive" and ans.guidance
