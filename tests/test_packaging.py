"""One import namespace: everything is under `advisor`; data ships inside the package."""

from __future__ import annotations

import importlib.util
from importlib import resources

import advisor.tools

import advisor


def test_no_top_level_tools_or_ui_module():
    for name in ("tools", "ui", "evals", "knowledge"):
        spec = importlib.util.find_spec(name)
        assert spec is None or "advisor" not in str(spec.origin or ""), name


def test_subpackages_are_under_advisor():
    for name in ("advisor.tools", "advisor.ui", "advisor.evals", "advisor.knowledge"):
        assert importlib.util.find_spec(name) is not None, name


def test_catalogs_and_guides_ship_as_package_data():
    root = resources.files("advisor.knowledge")
    assert root.joinpath("catalog", "accelerators.yaml").is_file()
    assert any(p.name.endswith(".md") for p in root.joinpath("guides").iterdir())


def test_importing_advisor_does_no_heavy_work():
    """A fresh interpreter importing the tools loads no ML framework or vector store."""
    import subprocess
    import sys

    code = (
        "import sys, advisor, advisor.tools, advisor.cli; "
        "print(sorted(m for m in ('torch', 'chromadb', 'llama_cpp', 'gradio') "
        "if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"
    assert advisor.__version__
    assert "inference_memory" in advisor.tools.__all__
