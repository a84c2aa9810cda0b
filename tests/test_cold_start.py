"""Pay only for what a question needs (issue 13): a new process answering a calculator or a
guidance question with the `none` backend, `advisor --help` and a catalog lookup import no
ML framework, vector store or model runtime. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = (
    "torch",
    "sentence_transformers",
    "transformers",
    "chromadb",
    "langchain_core",
    "langchain_huggingface",
    "llama_cpp",
)

REPORT = (
    "import json, sys; "
    f"print('HEAVY=' + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), "
    "file=sys.stderr)"
)


def _run(code: str, data_dir: str | None = None) -> tuple[str, list[str]]:
    env = {**os.environ, "ADVISOR_LLM_BACKEND": "none"}
    if data_dir:
        env["ADVISOR_DATA_DIR"] = data_dir
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("HEAVY="))
    return proc.stdout, json.loads(line.removeprefix("HEAVY="))


def _cli(*args: str) -> str:
    """Run the CLI in-process (so its modules can be listed), then report them."""
    return (
        "import sys\n"
        "from advisor.cli import app\n"
        f"sys.argv = ['advisor', *{list(args)!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"{REPORT}\n"
    )


@pytest.fixture(scope="module")
def index_dir(real_kb) -> str:
    """The session's real index; building it also wrote the read cache a new process uses."""
    return str(real_kb.settings.data_dir)


def test_calculator_question_imports_no_ml_framework(index_dir):
    """Regression for issue 13: `advisor ask` on a calculator question took 7.3 s and 643 MB
    because it loaded torch, sentence-transformers and chromadb for the guidance."""
    code = (
        "from advisor import Advisor\n"
        "a = Advisor.from_settings(llm_backend='none')\n"
        "ans = a.ask('How much memory does Llama 3.1 8B need in bf16?')\n"
        "print(ans.verdict, len(ans.citations), ans.guidance_source)\n" + REPORT
    )
    out, heavy = _run(code, index_dir)
    verdict, n_citations, source = out.split()
    assert verdict == "info" and int(n_citations) >= 1 and source == "extractive"
    assert heavy == []


def test_guidance_question_uses_dense_retrieval_without_torch_or_chroma(index_dir):
    code = (
        "from advisor import Advisor\n"
        "a = Advisor.from_settings(llm_backend='none')\n"
        "r = a.kb.search('IB vs RoCE?')\n"
        "print(r.covered, r.passages[0].doc_id, r.passages[0].dense is not None)\n" + REPORT
    )
    out, heavy = _run(code, index_dir)
    assert out.split() == ["True", "scale-out-networking", "True"]
    assert heavy == []


def test_cli_calculator_question_imports_no_ml_framework(index_dir):
    out, heavy = _run(
        _cli("ask", "How much memory does Llama 3.1 8B need in bf16?", "--backend", "none"),
        index_dir,
    )
    assert "16.1 GB" in out and "### Sources" in out
    assert heavy == []


@pytest.mark.parametrize(
    "args", [("--help",), ("catalog", "list", "models"), ("calc", "inference-memory", "70")]
)
def test_help_and_catalog_import_no_ml_framework(args, tmp_path):
    out, heavy = _run(_cli(*args), str(tmp_path))
    assert out.strip()
    assert heavy == []
    assert not (tmp_path / "chroma").exists()  # nothing opened an index either
