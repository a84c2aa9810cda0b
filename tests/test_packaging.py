"""One import namespace: everything is under `advisor`; data ships inside the package."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import advisor.tools

import advisor

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("tools", "ui", "evals", "knowledge")


def _where(names: list[str], cwd: Path) -> dict[str, list[str]]:
    """Where a fresh interpreter started in ``cwd`` finds each name (no cwd on sys.path)."""
    code = (
        "import importlib.util, json, sys\n"
        "def where(n):\n"
        "    s = importlib.util.find_spec(n)\n"
        "    return [] if s is None else [s.origin or '', *(s.submodule_search_locations or [])]\n"
        "print(json.dumps({n: where(n) for n in sys.argv[1:]}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-P", "-c", code, *names],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {n: [p for p in paths if p] for n, paths in json.loads(proc.stdout).items()}


def _in_checkout(paths: list[str]) -> bool:
    return any(Path(p).resolve().is_relative_to(ROOT) for p in paths)


def test_no_top_level_tools_or_ui_module(tmp_path):
    """The install exposes our folders only as ``advisor.<room>``, never as ``import tools``.

    Checked from outside the checkout, so the current directory cannot stand in for the
    install; ``advisor.<room>`` resolving into the checkout shows the check can see it.
    """
    found = _where([*ROOMS, *(f"advisor.{r}" for r in ROOMS)], tmp_path)
    for room in ROOMS:
        assert _in_checkout(found[f"advisor.{room}"]), f"advisor.{room}: {found}"
        assert not _in_checkout(found[room]), f"top-level {room!r} is importable: {found[room]}"


def test_subpackages_are_under_advisor():
    for name in ("advisor.tools", "advisor.ui", "advisor.evals", "advisor.knowledge"):
        assert importlib.util.find_spec(name) is not None, name


def test_catalogs_and_guides_ship_as_package_data():
    root = resources.files("advisor.knowledge")
    assert root.joinpath("catalog", "accelerators.yaml").is_file()
    assert any(p.name.endswith(".md") for p in root.joinpath("guides").iterdir())


def test_importing_advisor_does_no_heavy_work():
    """A fresh interpreter importing the tools loads no ML framework or vector store."""
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
