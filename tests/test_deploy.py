"""The scale-out deployment of docs/DEPLOY.md, all on 127.0.0.1: the index in a `chroma run`
server, SmolLM2 behind llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`),
and two `advisor serve --backend openai` processes sharing both. Concurrent gradio_client
chats spread over the two app processes. Required: no failed request; both processes answer;
guidance comes from the Chroma server (cited; no embedded index is made) and is phrased by
the model server (each guidance answer is a completion there, none fell back to extractive);
the model server's own throughput is printed, not asserted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from servers import ChromaServer, LlamaServer

from advisor.llm import packaged_gguf
from advisor.load import CONVERSATIONS, reply_text, running_app

pytestmark = [pytest.mark.integration, pytest.mark.llm]
APPS = 2
CLIENTS_PER_APP = 3  # each has one three-turn conversation: 18 chat requests in all
COMPLETION = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" 200')
# llama.cpp's own timing of each completion (the server runs with --verbose, its default)
PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
EVAL = re.compile(r"\beval time =\s*([\d.]+) ms /\s*(\d+) runs")


def _phases(log: str) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """(ms, tokens) of every prompt evaluation and every generation in the server's log."""
    prompt = [(float(ms), int(n)) for ms, n in PROMPT_EVAL.findall(log)]
    gen = [(float(ms), int(n)) for ms, n in EVAL.findall(log.replace("prompt eval time", ""))]
    return prompt, gen


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy")
    chroma = ChromaServer(root / "chroma-db")
    # one thread: on a machine whose cores are shared (CI, the app processes here) two
    # llama.cpp threads wait on each other: 1.5-2 tokens/s instead of 111 (docs/DEPLOY.md)
    model = LlamaServer(packaged_gguf(), root, threads=1)
    try:
        chroma.start()
        model.start()
        env = {
            "ADVISOR_CHROMA_URL": chroma.url,
            "ADVISOR_DATA_DIR": str(root / "app-data"),  # must stay without an index
            "ADVISOR_LLM_BACKEND": "openai",
            "ADVISOR_OPENAI_BASE_URL": model.base_url,
            "ADVISOR_OPENAI_MODEL": "smollm2",
            # generous: the single model server answers the queue one request at a time
            "ADVISOR_LLM_TIMEOUT_S": "300",
        }
        built = subprocess.run(
            [sys.executable, "-m", "advisor.cli", "index"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=600,
        )
        assert built.returncode == 0, built.stderr[-2000:]
        yield chroma, model, env, root
    finally:
        model.stop()
        chroma.stop()


def _chat(url: str, conversation: tuple[str, ...], replies: list[str], errors: list[str]) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
        history: list = []
        for q in conversation:
            history = client.predict(q, history, api_name="/chat")[0]
            replies.append(reply_text(history))
        client.close()
    except Exception as exc:  # noqa: BLE001 - counted as a failed request
        errors.append(f"{url}: {type(exc).__name__}: {exc}")


def test_two_app_processes_share_chroma_and_the_model_server(deployment):
    chroma, model, env, root = deployment
    with running_app([], env) as first, running_app([], env) as second:
        apps = [first, second]
        replies: dict[str, list[str]] = {a.url: [] for a in apps}
        errors: list[str] = []
        threads = []
        for i in range(CLIENTS_PER_APP):
            for n, a in enumerate(apps):
                talk = CONVERSATIONS[(i * APPS + n) % len(CONVERSATIONS)]
                threads.append(
                    threading.Thread(target=_chat, args=(a.url, talk, replies[a.url], errors))
                )
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        logs = [a.log_tail(200_000) for a in apps]
    assert not errors, errors
    every = [r for rs in replies.values() for r in rs]
    assert len(every) == APPS * CLIENTS_PER_APP * 3
    assert all(every), "a chat turn got no answer"
    assert all(len(rs) == CLIENTS_PER_APP * 3 for rs in replies.values())  # both processes
    assert not any("Language model unavailable" in r for r in every), every
    guided = [r for r in every if "### Guidance" in r]
    assert guided and all("### Sources" in r for r in guided)  # cited passages, from Chroma
    assert not (root / "app-data" / "chroma").exists()
    server_log = model.log.read_text(errors="replace")
    completions = len(COMPLETION.findall(server_log))
    assert completions >= len(guided)  # every guidance answer was phrased by the model server
    prompt, gen = _phases(server_log)
    assert gen and max(n for _, n in gen) <= 120  # ADVISOR_LLM_MAX_TOKENS reached the server
    assert not any("Traceback" in log for log in logs), logs
    print(
        f"\n{len(every)} chat turns over {APPS} app processes, {completions} completions; "
        f"model server: prompt {sum(n for _, n in prompt) / sum(ms for ms, _ in prompt) * 1e3:.0f}"
        f" tokens/s, generation {sum(n for _, n in gen) / sum(ms for ms, _ in gen) * 1e3:.1f}"
        f" tokens/s, {max(n for _, n in gen)} tokens at most"
    )


def test_model_server_throughput(deployment):
    """Tokens per second of llama.cpp's server with four requests at once (printed)."""
    _, model, _, _ = deployment
    results: list[dict] = []

    def one(i: int) -> None:
        body = {
            "model": "smollm2",
            "messages": [
                {"role": "system", "content": "You explain AI infrastructure briefly."},
                {"role": "user", "content": f"Explain InfiniBand versus RoCE ({i})."},
            ],
            "max_tokens": 120,
            "temperature": 0,
        }
        req = urllib.request.Request(
            model.base_url + "/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=600) as resp:
            results.append(json.loads(resp.read()))

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    assert len(results) == 4 and all(r["choices"][0]["message"]["content"] for r in results)
    out = sum(r["usage"]["completion_tokens"] for r in results)
    prompt = sum(r["usage"]["prompt_tokens"] for r in results)
    print(f"\n4 concurrent requests: {out} completion + {prompt} prompt tokens in {wall:.1f} s")


def test_deploy_doc_names_what_the_test_runs():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "DEPLOY.md").read_text()
    for needle in (
        "chroma run --path",
        "python -m llama_cpp.server",
        "--interrupt_requests False",
        "ADVISOR_CHROMA_URL",
        "ADVISOR_OPENAI_BASE_URL",
        "advisor serve",
    ):
        assert needle in doc, needle
