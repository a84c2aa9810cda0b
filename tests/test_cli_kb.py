"""CLI for the knowledge base: index (incremental), add, search, eval retrieval."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisor.cli import app


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli-kb")
    return {"ADVISOR_DATA_DIR": str(data)}


def run(env, *args):
    return CliRunner().invoke(app, list(args), env=env)


def test_index_then_incremental(env):
    first = run(env, "index")
    assert first.exit_code == 0, first.output
    assert "44 added" in first.output or "added" in first.output
    again = run(env, "index")
    assert again.exit_code == 0 and "0 added" in again.output and "unchanged" in again.output


def test_search_and_json(env):
    res = run(env, "search", "IB vs RoCE?", "--k", "3")
    assert res.exit_code == 0 and "Scale-Out Networking" in res.output
    js = run(env, "search", "is HBM why H100s are fast?", "--json")
    data = json.loads(js.stdout)
    assert data["covered"] and data["passages"][0]["doc_id"] == "memory-types-ddr-gddr-hbm"
    empty = run(env, "search", "   ")
    assert empty.exit_code == 2 and "empty" in empty.output


def test_index_add(env, tmp_path):
    doc = tmp_path / "runbook.md"
    doc.write_text("# Runbook\n\n## Upgrades\n\nDrain the Bergen nodes before any upgrade.\n")
    res = run(env, "index", "add", str(doc))
    assert res.exit_code == 0 and "1 document(s)" in res.output
    found = run(env, "search", "Bergen nodes upgrade", "--k", "2")
    assert "[user document]" in found.output
    bad = run(env, "index", "add", str(tmp_path / "nope.docx"))
    assert bad.exit_code == 2


def test_eval_retrieval_writes_reports(env, tmp_path):
    res = run(env, "eval", "retrieval", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "retrieval_report.json").read_text())
    modes = {s["mode"] for s in report["scores"]}
    assert modes == {"hybrid", "bm25", "dense"}
    assert (tmp_path / "retrieval_report.md").read_text().startswith("# Retrieval evaluation")
